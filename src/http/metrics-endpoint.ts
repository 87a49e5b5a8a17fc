import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.ts';
import { bearerMatches } from '../services/auth/auth.service.ts';
import { sendJson } from './util.ts';

export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface MetricsEndpointOptions {
  registry: Registry;
  /** Bearer token every scrape must present (METRICS_TOKEN); null leaves the endpoint open. */
  token: string | null;
  /** Brings the sampled gauges (queue depth, dependencies up) to date before a scrape. */
  refresh(): Promise<void>;
  log: Logger;
}

/** Answers a scrape in the Prometheus text format; 401 without the token when one is set. */
export function metricsHandler(opts: MetricsEndpointOptions): MetricsHandler {
  return async (req, res) => {
    if (opts.token && !bearerMatches(req.headers.authorization, opts.token)) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendJson(res, 401, { error: 'metrics token required' });
    }
    // A failed refresh leaves the last values; the scrape itself must still answer.
    await opts.refresh().catch((err) => opts.log.warn({ err }, 'refreshing gauges failed'));
    const body = await opts.registry.metrics();
    res.writeHead(200, { 'content-type': opts.registry.contentType });
    res.end(body);
  };
}

export interface MetricsServer {
  server: Server;
  /** `http://host:port`, the actual port when 0 was asked for. */
  url: string;
  close(): Promise<void>;
}

/** A server of its own for METRICS_PORT: /metrics and nothing else, so the scrape port stays private. */
export async function listenMetrics(
  handler: MetricsHandler,
  port: number,
  host: string,
  log: Logger,
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics') return sendJson(res, 404, { error: 'not found' });
    handler(req, res).catch((err) => {
      log.error({ err }, 'metrics scrape failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'metrics unavailable' });
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
