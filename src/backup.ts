import { parseArgs } from 'node:util';
import { loadConfigOrExit } from './config.ts';
import { createLogger } from './logger.ts';
import { createBackup } from './services/backup/backup.service.ts';

// `npm run backup -- --out DIR`: the database and every stored object into DIR, with a verified manifest.
const { values } = parseArgs({ options: { out: { type: 'string' } } });
if (!values.out) {
  console.error('usage: npm run backup -- --out DIR');
  process.exit(2);
}
const config = loadConfigOrExit();
const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
const manifest = await createBackup(config, log, values.out).catch((err: Error) => {
  console.error(`backup failed: ${err.message}`);
  process.exit(1);
});
const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
console.log(JSON.stringify({ out: values.out, rows, objects: manifest.objects.length, verified: true }));
