import { buildApp } from './app.ts';
import { loadConfigOrExit } from './config.ts';
import { exitOnStartupError } from './errors.ts';
import { createLogger } from './logger.ts';
import { onShutdown } from './shutdown.ts';
import { survivePostgresOutages } from './unhandled.ts';

const config = loadConfigOrExit();

const log = createLogger(config.logLevel);
survivePostgresOutages(log);
const app = await buildApp(config, { log }).catch(exitOnStartupError);
onShutdown(log, () => app.stop());
await app.start();
log.info({ url: `${app.url}/graphql` }, 'Dossier is listening');
if (config.graphiql) console.log(`\n  GraphiQL:    ${app.url}/graphql`);
// The token itself is printed once, when this process made it; never one given or kept from before.
const { auth } = app.services;
console.log(
  config.adminToken
    ? '  Staff token: the ADMIN_TOKEN you set\n'
    : auth.generated
      ? `  Staff token: ${auth.token}  (kept in ${config.dataDir}/admin-token)\n`
      : `  Staff token: in ${config.dataDir}/admin-token\n`,
);
