import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBackupMetrics } from '../../../src/services/backup/schedule.ts';
import { type Proc, spawnUntil, stopProcess, tempDir } from '../../support/processes.ts';
import { exporterMetrics } from '../../support/promql.ts';

// The alerts and the host dashboard read other programs' metrics: Debian's node-exporter and
// Alertmanager are run here and scraped, so a renamed metric fails this test, not a silent alert.
let dir: string;
const procs: Proc[] = [];
const urls: Record<string, string> = {};

const names = async (url: string) => {
  const text = await (await fetch(url)).text();
  return new Set([...text.matchAll(/^([a-zA-Z_:][\w:]*)[{ ]/gm)].map((m) => m[1]));
};

beforeAll(async () => {
  dir = await tempDir('dossier-exporters-');
  await mkdir(join(dir, 'textfile'));
  // What the backup service writes, as it writes it.
  await writeBackupMetrics(join(dir, 'textfile', 'dossier_backup.prom'), {
    lastSuccess: new Date(),
    lastFailure: null,
    bytes: 1234,
  });
  const [node, am, cluster] = [await getPort(), await getPort(), await getPort()];
  const env = { PATH: process.env.PATH ?? '' };
  procs.push(
    await spawnUntil(
      'prometheus-node-exporter',
      [`--web.listen-address=127.0.0.1:${node}`, `--collector.textfile.directory=${join(dir, 'textfile')}`],
      env,
      /Listening on/,
    ),
  );
  urls.node = `http://127.0.0.1:${node}/metrics`;
  await writeFile(join(dir, 'alertmanager.yml'), 'route: { receiver: none }\nreceivers: [{ name: none }]\n');
  procs.push(
    await spawnUntil(
      'prometheus-alertmanager',
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'am')}`,
        `--web.listen-address=127.0.0.1:${am}`,
        `--cluster.listen-address=127.0.0.1:${cluster}`,
      ],
      env,
      /Listening/,
    ),
  );
  urls.alertmanager = `http://127.0.0.1:${am}/metrics`;
});

afterAll(async () => {
  for (const p of procs) await stopProcess(p);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('metrics of the exporters the platform alerts read', () => {
  it('node-exporter serves the node_* metrics and the backup textfile', async () => {
    const served = await names(urls.node);
    const missing = [...exporterMetrics.node, ...exporterMetrics.backup].filter((n) => !served.has(n));
    expect(missing).toEqual([]);
  });

  it('Alertmanager serves its notification and reload metrics', async () => {
    const served = await names(urls.alertmanager);
    expect(exporterMetrics.alertmanager.filter((n) => !served.has(n))).toEqual([]);
  });
});
