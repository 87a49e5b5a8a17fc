import { loadConfigOrExit } from './config.ts';
import { exitOnStartupError } from './errors.ts';
import { listenMetrics, metricsHandler } from './http/metrics-endpoint.ts';
import { createLogger } from './logger.ts';
import { createServices } from './services/index.ts';
import { onShutdown } from './shutdown.ts';
import { survivePostgresOutages } from './unhandled.ts';
import { startWorkers } from './worker-runner.ts';

// Workers alone: no HTTP API; scale these apart from the API processes.
const config = loadConfigOrExit();
const log = createLogger(config.logLevel);
survivePostgresOutages(log);
const services = await createServices(config, log).catch(exitOnStartupError);
const workers = await startWorkers(services, Math.max(1, config.jobConcurrency));
// No public port here, so metrics are served only on METRICS_PORT.
const metricsServer =
  config.metrics?.port != null
    ? await listenMetrics(
        metricsHandler(services, config.metrics.token),
        config.metrics.port,
        config.http.host,
        log,
      )
    : null;
log.info(
  {
    concurrency: Math.max(1, config.jobConcurrency),
    metrics: metricsServer && `${metricsServer.url}/metrics`,
  },
  'Dossier workers running',
);
onShutdown(log, async () => {
  await metricsServer?.close();
  await workers.stop();
  await services.close();
});
