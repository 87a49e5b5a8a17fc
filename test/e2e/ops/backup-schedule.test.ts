import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/logger.ts';
import { scheduledBackup } from '../../../src/services/backup/schedule.ts';
import { createS3Store } from '../../../src/services/storage/s3.store.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { run } from '../../support/ops-run.ts';
import { tempDir, uploadFile } from '../../support/processes.ts';
import { type S3Peer, startS3Peer } from '../../support/s3-peer.ts';

// The stack's backup service, one run at a time: a verified backup, its off-host copy on S3
// (s3rver), retention in both places, and the metrics file node-exporter serves.
let t: TestApp;
let s3: S3Peer;
let dir: string;

beforeAll(async () => {
  [t, s3, dir] = await Promise.all([startTestApp(), startS3Peer(), tempDir('dossier-backups-')]);
  await uploadFile(t.url, 'minutes.txt', 'Minutes of the steering meeting.');
});
afterAll(async () => {
  await t?.stop();
  await s3?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scheduled backup', () => {
  it('copies each verified backup off-host, keeps the newest N in both places and reports its time', async () => {
    const config = loadConfig({
      DATABASE_URL: t.databaseUrl,
      DATA_DIR: t.dataDir,
      BACKUP_S3_ENDPOINT: s3.endpoint,
      BACKUP_S3_BUCKET: 'dossier-backups',
      BACKUP_S3_ACCESS_KEY: s3.accessKey,
      BACKUP_S3_SECRET_KEY: s3.secretKey,
    });
    const log = createLogger('silent');
    const metricsFile = join(dir, 'dossier_backup.prom');
    const opts = { dir, everyMs: 86_400_000, keep: 2, metricsFile };
    const runs = [];
    for (const at of ['2026-12-01T03:00:00Z', '2026-12-02T03:00:00Z', '2026-12-03T03:00:00Z'])
      runs.push(await scheduledBackup(config, log, opts, new Date(at)));
    const kept = runs.slice(1).map((r) => r.name);

    expect((await readdir(dir)).filter((n) => n.startsWith('dossier-')).sort()).toEqual(kept);
    const remote = createS3Store({ ...s3, bucket: 'dossier-backups' });
    const keys: string[] = [];
    for await (const key of remote.list()) keys.push(key);
    expect([...new Set(keys.map((k) => k.split('/')[0]))].sort()).toEqual(kept);
    // The off-host copy is byte for byte what the manifest lists.
    const last = runs.at(-1)!;
    for (const entry of [...last.manifest.tables, ...last.manifest.objects]) {
      const chunks: Buffer[] = [];
      for await (const chunk of await remote.get(`${last.name}/${entry.path}`)) chunks.push(chunk as Buffer);
      expect(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'), entry.path).toBe(entry.sha256);
    }
    expect(keys).toContain(`${last.name}/manifest.json`);

    const metrics = await readFile(metricsFile, 'utf8');
    const check = run('sh', ['-c', `promtool check metrics < ${metricsFile}`]);
    expect(check.status, check.output).toBe(0);
    const stamp = Number(/^dossier_backup_last_success_timestamp_seconds (\d+)$/m.exec(metrics)?.[1]);
    expect(Math.abs(stamp - Date.now() / 1000)).toBeLessThan(120);
  }, 120_000);
});
