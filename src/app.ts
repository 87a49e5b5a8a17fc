import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { type ExecutionArgs, NoSchemaIntrospectionCustomRule } from 'graphql';
import { processRequest } from 'graphql-upload-ts';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type Plugin } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { Config } from './config.ts';
import type { Context } from './context.ts';
import { maskError } from './http/errors.ts';
import { listenMetrics, type MetricsServer, metricsHandler } from './http/metrics-endpoint.ts';
import { errorReporting, metricsPlugins, operationNamer } from './http/metrics-plugins.ts';
import { watchMultipart } from './http/upload-limit.ts';
import { clientAddress, requestIdFrom, sendJson } from './http/util.ts';
import { createLogger, type Logger } from './logger.ts';
import { schema } from './schema/index.ts';
import { createServices, type Services } from './services/index.ts';
import { startWorkers, type Workers } from './worker-runner.ts';

interface ServerContext {
  req?: IncomingMessage;
  res?: ServerResponse;
  requestId?: string;
  connectionParams?: Record<string, unknown>;
  transport?: 'http' | 'ws';
}

// More than a loopback or LAN connection holds in flight, so a client sending at full speed still reads our answer.
const LINGER_BYTES = 16 * 1024 * 1024;
const LINGER_MS = 2_000;

/**
 * An upload answered before its body was read (too large, bad type): detach the multipart parser,
 * send FIN so the client stops, and discard what it still sends (at most LINGER_BYTES or LINGER_MS),
 * so that it reads our answer rather than a connection reset; then close.
 */
function stopReading(req: IncomingMessage) {
  if (req.complete) return;
  req.unpipe();
  const { socket } = req;
  socket.end();
  const close = () => socket.destroy();
  const timer = setTimeout(close, LINGER_MS);
  socket.once('close', () => clearTimeout(timer));
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > LINGER_BYTES) close();
  });
  req.resume();
}

const isMultipart = (req: IncomingMessage) =>
  (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
const hasCsrfHeader = (req: IncomingMessage) =>
  Boolean(req.headers['apollo-require-preflight'] || req.headers['x-graphql-yoga-csrf']);

export interface App {
  server: Server;
  services: Services;
  url: string;
  /** Where /metrics is served apart (METRICS_PORT), once started; null when it is on the public port or off. */
  metricsUrl: string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function buildApp(config: Config, opts: { log?: Logger } = {}): Promise<App> {
  const log = opts.log ?? createLogger(config.logLevel);
  const services = await createServices(config, log);
  const { metrics, auth, orm } = services;
  const production = config.env === 'production';
  const serveMetrics = metricsHandler({
    registry: metrics.registry,
    token: config.metrics?.token ?? null,
    refresh: services.refreshGauges,
    log,
  });
  const operationName = operationNamer(
    config.metrics?.operationCap ?? 100,
    config.metrics?.knownOperations ?? null,
  );

  const introspectionOff: Plugin = {
    onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
  };

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    healthCheckEndpoint: '/health',
    graphiql: config.graphiql ? { title: 'Dossier', subscriptionsProtocol: 'WS' } : false,
    renderGraphiQL,
    maskedErrors: { maskError },
    logging: {
      debug: (...a: unknown[]) => log.debug({ yoga: a }),
      info: (...a: unknown[]) => log.info({ yoga: a }),
      warn: (...a: unknown[]) => log.warn({ yoga: a }),
      error: (...a: unknown[]) => log.error({ yoga: a }),
    },
    context: async (initial): Promise<Context> => {
      const requestId = initial.requestId ?? randomUUID();
      const authorization =
        initial.request?.headers.get('authorization') ??
        String(initial.connectionParams?.authorization ?? '');
      return {
        services,
        em: orm.em.fork(),
        viewer: auth.viewer(authorization),
        requestId,
        clientIp: initial.req ? clientAddress(initial.req, config.http.trustProxy) : 'unknown',
        log: log.child({ requestId }),
        transport:
          initial.transport === 'ws'
            ? 'ws'
            : initial.request?.headers.get('accept')?.includes('text/event-stream')
              ? 'sse'
              : 'http',
      };
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: 8 },
        maxAliases: { n: 15 },
        maxDirectives: { n: 10 },
        maxTokens: { n: 2000 },
        costLimit: { maxCost: 5000 },
        blockFieldSuggestion: { enabled: production },
      }),
      ...(config.graphiql ? [] : [introspectionOff]),
      ...(config.metrics ? metricsPlugins(metrics, operationName) : []),
      errorReporting(metrics, operationName, log),
    ],
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0];
    const started = performance.now();
    res.once('close', () =>
      log.info(
        {
          requestId,
          method: req.method,
          path,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'request',
      ),
    );
    if (path === '/ready') {
      const state = await services.readiness();
      return sendJson(res, state.ready ? 200 : 503, state);
    }
    if (path === '/metrics' && config.metrics && config.metrics.port === null) return serveMetrics(req, res);
    if (path === '/graphql' && req.method === 'POST' && isMultipart(req)) {
      if (!hasCsrfHeader(req)) {
        return sendJson(res, 403, {
          errors: [
            {
              message:
                'Multipart requests must carry a non-empty apollo-require-preflight or x-graphql-yoga-csrf header',
              extensions: { code: 'FORBIDDEN' },
            },
          ],
        });
      }
      res.once('finish', () => stopReading(req));
      const parsing = processRequest(req, res, {
        // busboy refuses a file that reaches maxFileSize; MAX_UPLOAD_BYTES itself is allowed.
        maxFileSize: config.uploads.maxBytes + 1,
        maxFiles: config.uploads.maxFiles,
      });
      const body = watchMultipart(req, config.uploads.maxBytes);
      let operations: unknown;
      try {
        operations = await parsing;
      } catch (err) {
        body.stop();
        return uploadRejected(res, err);
      }
      if (body.cannotFit(operations)) {
        const message = `A file is larger than the limit of ${config.uploads.maxBytes} bytes`;
        return uploadRejected(res, { code: 'FILE_TOO_LARGE', message });
      }
      (req as IncomingMessage & { body?: unknown }).body = operations;
      // Yoga's whole-body limit would count the files too; processRequest enforces the per-file limit.
      delete req.headers['content-length'];
    }
    await yoga(req, res, { req, res, requestId, transport: 'http' });
  }

  function uploadRejected(res: ServerResponse, err: unknown) {
    const e = err as { code?: string; message?: string; status?: number };
    const code = e.code === 'FILE_TOO_LARGE' ? 'PAYLOAD_TOO_LARGE' : 'BAD_USER_INPUT';
    metrics.uploadsRefused.inc({
      reason:
        e.code === 'FILE_TOO_LARGE'
          ? 'too_large'
          : /max file uploads/.test(e.message ?? '')
            ? 'too_many'
            : 'malformed',
    });
    sendJson(res, e.code === 'FILE_TOO_LARGE' ? 413 : 400, {
      errors: [{ message: e.message ?? 'Invalid multipart request', extensions: { code, reason: e.code } }],
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Unexpected error.' }] });
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ server, path: '/graphql' });
  useServer<Record<string, unknown>>(
    {
      execute: (args) =>
        (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) =>
        (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
        const requestId = requestIdFrom(undefined);
        const enveloped = yoga.getEnveloped({
          req: ctx.extra.request,
          requestId,
          connectionParams: ctx.connectionParams ?? {},
          transport: 'ws',
          // As Yoga's HTTP context has them: the metrics plugin reads the requested operationName here.
          params: payload,
        });
        const document = enveloped.parse(payload.query);
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        const errors = enveloped.validate(args.schema, args.document);
        return errors.length ? errors : args;
      },
    },
    wss,
  );

  let workers: Workers | null = null;
  let metricsServer: MetricsServer | null = null;
  let url = '';
  return {
    server,
    services,
    get url() {
      return url;
    },
    get metricsUrl() {
      return metricsServer?.url ?? null;
    },
    async start() {
      if (config.workers > 0) workers = await startWorkers(services, config.workers);
      await new Promise<void>((ok) => server.listen(config.http.port, config.http.host, ok));
      const { port } = server.address() as AddressInfo;
      url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
      if (config.metrics?.port != null)
        metricsServer = await listenMetrics(serveMetrics, config.metrics.port, config.http.host, log);
    },
    async stop() {
      for (const ws of wss.clients) ws.close(1001, 'Server shutting down');
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.http.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      wss.close();
      await metricsServer?.close();
      await workers?.stop();
      await yoga.dispose();
      await services.close();
    },
  };
}
