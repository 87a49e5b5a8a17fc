import { createReadStream, existsSync } from 'node:fs';
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import { createS3Store } from '../storage/s3.store.ts';
import type { ObjectStore } from '../storage/storage.ts';
import { createBackup } from './backup.service.ts';
import { MANIFEST, type Manifest, readManifest } from './manifest.ts';

export interface ScheduleOptions {
  /** Where each run writes `dossier-<time>/`. */
  dir: string;
  everyMs: number;
  /** Complete backups kept here and off-host; older ones are removed after a good run. */
  keep: number;
  /** node-exporter's textfile collector reads this (DossierBackupTooOld). */
  metricsFile: string | null;
}

const PREFIX = 'dossier-';
const runName = (at: Date) => `${PREFIX}${at.toISOString().replace(/[:.]/g, '-')}`;

export interface BackupMetrics {
  lastSuccess: Date | null;
  lastFailure: Date | null;
  bytes: number;
}

/** The metrics in Prometheus's text format, written aside and renamed so a scrape never reads half. */
export async function writeBackupMetrics(file: string, m: BackupMetrics): Promise<void> {
  const gauge = (name: string, help: string, value: number) =>
    `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`;
  const seconds = (d: Date | null) => (d ? Math.floor(d.getTime() / 1000) : 0);
  const text = [
    m.lastSuccess &&
      gauge(
        'dossier_backup_last_success_timestamp_seconds',
        'End of the last verified (and copied off-host) backup.',
        seconds(m.lastSuccess),
      ),
    gauge(
      'dossier_backup_last_failure_timestamp_seconds',
      'End of the last failed backup run, 0 if none.',
      seconds(m.lastFailure),
    ),
    gauge('dossier_backup_last_size_bytes', 'Size of the last good backup.', m.bytes),
  ]
    .filter(Boolean)
    .join('');
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

const sizeOf = (m: Manifest) => [...m.tables, ...m.objects].reduce((n, f) => n + f.bytes, 0);

/** Complete local backups (with a manifest), oldest first; unfinished ones are removed. */
async function localBackups(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(PREFIX)).sort();
  const complete: string[] = [];
  for (const name of names) {
    if (existsSync(join(dir, name, MANIFEST))) complete.push(name);
    else await rm(join(dir, name), { recursive: true, force: true });
  }
  return complete;
}

/** Copies a verified backup under `name/`, the manifest last, so a copy without one is unfinished. */
async function copyOffsite(store: ObjectStore, from: string, name: string, manifest: Manifest) {
  for (const { path } of [...manifest.tables, ...manifest.objects, { path: MANIFEST }]) {
    await store.put(`${name}/${path}`, createReadStream(join(from, path)), {
      contentType: 'application/octet-stream',
    });
  }
}

async function pruneOffsite(store: ObjectStore, keep: number) {
  const keys: string[] = [];
  for await (const key of store.list()) if (key.startsWith(PREFIX)) keys.push(key);
  const complete = [
    ...new Set(keys.filter((k) => k.endsWith(`/${MANIFEST}`)).map((k) => k.split('/')[0])),
  ].sort();
  const kept = new Set(complete.slice(-keep));
  for (const key of keys) if (!kept.has(key.split('/')[0])) await store.remove(key);
}

function offsiteStore(config: Config): ObjectStore | null {
  const offsite = config.backup.offsite;
  if (!offsite) return null;
  const { credentials, ...location } = offsite;
  return createS3Store({ ...location, ...credentials });
}

/** One scheduled run: backup, off-host copy, retention here and there, metrics. */
export async function scheduledBackup(config: Config, log: Logger, opts: ScheduleOptions, at = new Date()) {
  const name = runName(at);
  await localBackups(opts.dir);
  const manifest = await createBackup(config, log, join(opts.dir, name));
  const offsite = offsiteStore(config);
  if (offsite) {
    await offsite.init();
    await copyOffsite(offsite, join(opts.dir, name), name, manifest);
    await pruneOffsite(offsite, opts.keep);
  }
  const local = await localBackups(opts.dir);
  for (const old of local.slice(0, -opts.keep))
    await rm(join(opts.dir, old), { recursive: true, force: true });
  if (opts.metricsFile)
    await writeBackupMetrics(opts.metricsFile, {
      lastSuccess: new Date(),
      lastFailure: null,
      bytes: sizeOf(manifest),
    });
  log.info({ name, offsite: Boolean(offsite) }, 'scheduled backup done');
  return { name, manifest };
}

/** Runs `scheduledBackup` every `everyMs` until `signal` aborts; the first run when the newest backup is due. */
export async function backupLoop(config: Config, log: Logger, opts: ScheduleOptions, signal: AbortSignal) {
  const newest = (await localBackups(opts.dir)).at(-1);
  let last = newest ? await readManifest(join(opts.dir, newest)) : null;
  let lastFailure: Date | null = null;
  if (last && opts.metricsFile) {
    await writeBackupMetrics(opts.metricsFile, {
      lastSuccess: new Date(last.createdAt),
      lastFailure,
      bytes: sizeOf(last),
    });
  }
  while (!signal.aborted) {
    const due = last ? new Date(last.createdAt).getTime() + opts.everyMs - Date.now() : 0;
    if (due > 0) {
      await sleep(due, undefined, { signal }).catch(() => undefined);
      continue;
    }
    try {
      last = (await scheduledBackup(config, log, opts)).manifest;
    } catch (err) {
      lastFailure = new Date();
      log.error({ err }, 'scheduled backup failed');
      if (opts.metricsFile)
        await writeBackupMetrics(opts.metricsFile, {
          lastSuccess: last ? new Date(last.createdAt) : null,
          lastFailure,
          bytes: last ? sizeOf(last) : 0,
        });
      // Retry after a tenth of the interval rather than at once.
      await sleep(Math.min(opts.everyMs / 10, 3_600_000), undefined, { signal }).catch(() => undefined);
    }
  }
}
