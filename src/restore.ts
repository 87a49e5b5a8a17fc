import { parseArgs } from 'node:util';
import { loadConfigOrExit } from './config.ts';
import { createLogger } from './logger.ts';
import { restoreBackup } from './services/backup/backup.service.ts';

// `npm run restore -- --from DIR [--force]`: into the configured database and store (DATA_DIR by default).
const { values } = parseArgs({
  options: { from: { type: 'string' }, force: { type: 'boolean', default: false } },
});
if (!values.from) {
  console.error('usage: npm run restore -- --from DIR [--force]');
  process.exit(2);
}
const config = loadConfigOrExit();
const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
const manifest = await restoreBackup(config, log, values.from, { force: values.force }).catch(
  (err: Error) => {
    console.error(`restore failed: ${err.message}`);
    process.exit(1);
  },
);
const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
console.log(JSON.stringify({ from: values.from, rows, objects: manifest.objects.length, restored: true }));
process.exit(0);
