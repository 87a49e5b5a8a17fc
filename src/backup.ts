import { parseArgs } from 'node:util';
import { loadConfigOrExit } from './config.ts';
import { createLogger } from './logger.ts';
import { createBackup } from './services/backup/backup.service.ts';
import { backupLoop } from './services/backup/schedule.ts';

// `npm run backup -- --out DIR`: the database and every stored object into DIR, with a verified manifest.
// `npm run backup -- --dir DIR --every 24h [--keep 7] [--metrics-file F]`: the stack's backup service.
const usage =
  'usage: npm run backup -- --out DIR | --dir DIR --every <n>m|h|d [--keep N] [--metrics-file FILE]';
const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    dir: { type: 'string' },
    every: { type: 'string' },
    keep: { type: 'string', default: '7' },
    'metrics-file': { type: 'string' },
  },
});
const units = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const every = /^(\d+)([mhd])$/.exec(values.every ?? '');
const keep = Number(values.keep);
const scheduled = values.dir && every && Number.isInteger(keep) && keep >= 1;
if (!values.out === !scheduled) {
  console.error(usage);
  process.exit(2);
}
const config = loadConfigOrExit();
const log = createLogger(config.logLevel === 'info' && values.out ? 'warn' : config.logLevel);
if (values.out) {
  const manifest = await createBackup(config, log, values.out).catch((err: Error) => {
    console.error(`backup failed: ${err.message}`);
    process.exit(1);
  });
  const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
  console.log(JSON.stringify({ out: values.out, rows, objects: manifest.objects.length, verified: true }));
} else if (values.dir && every) {
  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
  const everyMs = Number(every[1]) * units[every[2] as keyof typeof units];
  await backupLoop(
    config,
    log,
    { dir: values.dir, everyMs, keep, metricsFile: values['metrics-file'] ?? null },
    stop.signal,
  );
}
