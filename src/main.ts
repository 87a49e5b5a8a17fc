import { buildApp } from './app.ts';
import { loadConfigOrExit } from './config.ts';
import { createLogger } from './logger.ts';
import { onShutdown } from './shutdown.ts';

const config = loadConfigOrExit();

const log = createLogger(config.logLevel);
const app = await buildApp(config, { log });
onShutdown(log, () => app.stop());
await app.start();
log.info({ url: `${app.url}/graphql` }, 'Dossier is listening');
if (config.graphiql) console.log(`\n  GraphiQL:    ${app.url}/graphql`);
// Printed only when this process made the token: one given in ADMIN_TOKEN must not reach the logs.
console.log(
  config.adminToken
    ? '  Staff token: the ADMIN_TOKEN you set\n'
    : `  Staff token: ${app.services.auth.token}  (kept in ${config.dataDir}/admin-token)\n`,
);
