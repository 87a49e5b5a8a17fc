import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { onShutdown } from './shutdown.ts';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

const log = createLogger(config.logLevel);
const app = await buildApp(config, { log });
await app.start();
log.info({ url: `${app.url}/graphql` }, 'Dossier is listening');
if (config.graphiql) console.log(`\n  GraphiQL:    ${app.url}/graphql`);
console.log(
  `  Staff token: ${app.services.auth.token}${app.services.auth.generated ? '  (generated, kept in the data dir)' : ''}\n`,
);
onShutdown(log, () => app.stop());
