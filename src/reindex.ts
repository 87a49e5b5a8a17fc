import { loadConfigOrExit } from './config.ts';
import { createLogger } from './logger.ts';
import { createServices } from './services/index.ts';

// `npm run reindex` rebuilds the engine from PostgreSQL; `-- --check` only reports drift (exit 1 when any).
// The numbers printed are the drift found before the rebuild.
const check = process.argv.includes('--check');
const config = loadConfigOrExit();
const services = await createServices(
  config,
  createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
);
let exitCode = 0;
try {
  const drift = check ? await services.repair.drift() : await services.repair.rebuild();
  const counts = {
    missing: drift.missing.length,
    stale: drift.stale.length,
    orphaned: drift.orphaned.length,
  };
  console.log(
    JSON.stringify({ engine: services.search.engine.kind, mode: check ? 'check' : 'rebuild', ...counts }),
  );
  if (check && counts.missing + counts.stale + counts.orphaned > 0) exitCode = 1;
} finally {
  await services.close();
}
process.exit(exitCode);
