import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.ts';
import { bearerMatches } from '../services/auth/auth.service.ts';
import { sendJson } from './util.ts';

export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** What a scrape reads: the registry, and the gauges sampled on demand (queue depth, dependencies up). */
export interface MetricsSource {
  metrics: { registry: Registry };
  refreshGauges(): Promise<void>;
  log: Logger;
}

/**
 * Answers a scrape of `source` (a process's services) in the Prometheus text format; 401 without
 * the bearer `token` (METRICS_TOKEN) when one is set.
 */
export function metricsHandler(source: MetricsSource, token: string | null): MetricsHandler {
  const { registry } = source.metrics;
  return async (req, res) => {
    if (token && !bearerMatches(req.headers.authorization, token)) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendJson(res, 401, { error: 'metrics token required' });
    }
    // A failed refresh leaves the last values; the scrape itself must still answer.
    await source.refreshGauges().catch((err) => source.log.warn({ err }, 'refreshing gauges failed'));
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
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
