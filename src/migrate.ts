import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfigOrExit } from './config.ts';
import { createLogger } from './logger.ts';
import { openDatabase } from './services/db/open-database.ts';
import { ormOptions } from './services/db/orm.ts';

// `npm run migrate` applies pending migrations (the server also does at start);
// `npm run migrate:down` reverts the last one, `-- --to NAME` down to NAME (kept), `-- --all` every one.
// Revert only what the running version does not need: see docs/operations.md, expand and contract.
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { to: { type: 'string' }, all: { type: 'boolean', default: false } },
});
const direction = positionals[0] ?? 'up';
if (!['up', 'down'].includes(direction) || (direction === 'up' && (values.to || values.all))) {
  console.error('usage: npm run migrate | npm run migrate:down [-- --to NAME | --all]');
  process.exit(2);
}
const config = loadConfigOrExit();
const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
const db = await openDatabase(config, log, { shared: true });
const orm = await MikroORM.init(ormOptions(db.url, 2));
let code = 0;
try {
  const done =
    direction === 'up'
      ? await orm.migrator.up()
      : await orm.migrator.down(values.all ? { to: 0 } : values.to ? { to: values.to } : undefined);
  console.log(JSON.stringify({ direction, migrations: done.map((m) => m.name) }));
} catch (err) {
  console.error(`migrate ${direction} failed: ${(err as Error).message}`);
  code = 1;
} finally {
  await orm.close(true);
  await db.stop();
}
process.exit(code);
