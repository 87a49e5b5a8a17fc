import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type Plugin, type YogaServerOptions } from 'graphql-yoga';
import type { Config } from './config.ts';
import { type Context, lazyFields } from './context.ts';
import { limitBody } from './http/body-limit.ts';
import { credentialWatch } from './http/credential-watch.ts';
import { csrfPrevention } from './http/csrf.ts';
import { maskError } from './http/errors.ts';
import { exportsHandler } from './http/exports.ts';
import { filesHandler } from './http/files.ts';
import { listenMetrics, type MetricsServer, metricsHandler } from './http/metrics-endpoint.ts';
import { errorReporting, metricsPlugins, operationNamer } from './http/metrics-plugins.ts';
import { createMultipartHandler, isMultipart } from './http/multipart.ts';
import { createHttpServer } from './http/server.ts';
import { canonicalPath, clientAddress, requestIdFrom, sendError, sendJson } from './http/util.ts';
import { attachWebSocket } from './http/websocket.ts';
import { createLogger, type Logger } from './logger.ts';
import { schema } from './schema/index.ts';
import { createServices, type ServiceOptions, type Services } from './services/index.ts';
import { startWorkers, type Workers } from './worker-runner.ts';

const ROUTES = new Set(['/graphql', '/health', '/ready', '/metrics']);
// Signed links: logged without the id that follows.
const LINK_ROUTES = ['/files', '/exports'];

export interface ServerContext {
  req?: IncomingMessage;
  res?: ServerResponse;
  requestId?: string;
  connectionParams?: Record<string, unknown>;
  transport?: 'http' | 'ws';
}

export interface App {
  server: Server;
  services: Services;
  url: string;
  /** Where /metrics is served apart (METRICS_PORT), once started; null when it is on the public port or off. */
  metricsUrl: string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Any origin when `origins` is null (outside production, unset); otherwise only the listed ones. Never credentials: staff send bearer tokens, not cookies. */
function corsFor(origins: string[] | null): YogaServerOptions<ServerContext, Context>['cors'] {
  if (origins === null) return { origin: '*', credentials: false, maxAge: 600 };
  if (origins.length === 0) return false;
  return (request) => {
    const origin = request.headers.get('origin');
    return origin && origins.includes(origin) ? { origin, credentials: false, maxAge: 600 } : false;
  };
}

export async function buildApp(config: Config, opts: { log?: Logger } & ServiceOptions = {}): Promise<App> {
  const log = opts.log ?? createLogger(config.logLevel);
  const services = await createServices(config, log, opts);
  const { metrics, auth, orm } = services;
  const production = config.env === 'production';
  const serveMetrics = metricsHandler(services, config.metrics?.token ?? null);
  const multipart = createMultipartHandler(config.uploads, metrics);
  const operationName = operationNamer(
    config.metrics?.operationCap ?? 100,
    config.metrics?.knownOperations ?? null,
  );

  const withLazyFields = lazyFields({
    em: () => orm.em.fork(),
    log: (context) => log.child({ requestId: context.requestId }),
  });

  const introspectionOff: Plugin = {
    onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
  };

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    maxRequestBodySize: false, // limitBody, in front
    // Multipart requests are parsed (streaming, limited) before Yoga; one that is not must fail, never be buffered.
    multipart: false,
    cors: corsFor(config.http.corsOrigins),
    healthCheckEndpoint: '/health',
    graphiql: config.graphiql
      ? {
          title: 'Dossier',
          // Over SSE, subscriptions carry the pasted Authorization header like queries do (a browser
          // WebSocket cannot send headers, and the socket's credential is checked at connection_init).
          subscriptionsProtocol: 'SSE',
          // Staff paste `{ "Authorization": "Bearer <token>" }` here; kept out of localStorage.
          defaultEditorToolsVisibility: 'headers',
          shouldPersistHeaders: false,
        }
      : false,
    // Loaded by the first GraphiQL page: the module inlines about 9 MB of editor code.
    renderGraphiQL: async (options) =>
      (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    maskedErrors: { maskError },
    logging: {
      debug: (...a: unknown[]) => log.debug({ yoga: a }),
      info: (...a: unknown[]) => log.info({ yoga: a }),
      warn: (...a: unknown[]) => log.warn({ yoga: a }),
      error: (...a: unknown[]) => log.error({ yoga: a }),
    },
    context: async (initial): Promise<Context> => {
      const requestId =
        initial.requestId ?? (initial.res?.getHeader('x-request-id') as string | undefined) ?? randomUUID();
      // Over HTTP, from Node's parsed headers, which the Fetch request wraps: its get() searches every
      // header for one that is absent (an anonymous request). Over WebSocket, from connection_init.
      const authorization = initial.request
        ? ((initial.req ? initial.req.headers.authorization : initial.request.headers.get('authorization')) ??
          '')
        : String(initial.connectionParams?.authorization ?? '');
      // On the context object itself: the returned fields are copied onto it, which would read a getter.
      withLazyFields(initial);
      return {
        services,
        viewer: await auth.viewer(authorization),
        requestId,
        clientIp: initial.req ? clientAddress(initial.req, config.http.trustProxy) : 'unknown',
        transport:
          initial.transport === 'ws'
            ? 'ws'
            : initial.request?.headers.get('accept')?.includes('text/event-stream')
              ? 'sse'
              : 'http',
      } as Context;
    },
    plugins: [
      csrfPrevention(),
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
      credentialWatch(auth, config.apiTokens.cacheSeconds),
    ],
  });

  const serveFile = filesHandler(services);
  const serveExport = exportsHandler(services);

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const path = canonicalPath(req.url);
    const started = performance.now();
    res.once('close', () =>
      log.info(
        {
          requestId,
          method: req.method,
          path: ROUTES.has(path) ? path : (LINK_ROUTES.find((r) => path.startsWith(`${r}/`)) ?? 'other'),
          // 499 (nginx's "client closed request") when the client left before the answer was sent.
          status: res.writableFinished ? res.statusCode : 499,
          ms: Math.round(performance.now() - started),
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      ),
    );
    if (path === '/health') {
      const health = services.health();
      return sendJson(res, health.ok ? 200 : 503, health);
    }
    if (path === '/ready') {
      const state = await services.readiness();
      return sendJson(res, state.ready ? 200 : 503, state);
    }
    if (path === '/metrics' && config.metrics?.onPublicPort) return serveMetrics(req, res);
    if (path.startsWith('/files/')) return serveFile(req, res);
    if (path.startsWith('/exports/')) return serveExport(req, res);
    if (path !== '/graphql') return sendError(res, 404, 'NOT_FOUND', 'Not found');
    // One spelling for Yoga, whose own matching is looser (any URL ending in /graphql).
    const query = req.url?.indexOf('?') ?? -1;
    req.url = query >= 0 ? `/graphql${req.url!.slice(query)}` : '/graphql';
    if (!(await (req.method === 'POST' && isMultipart(req) ? multipart(req, res) : limitBody(req, res))))
      return;
    // No server context of ours: Yoga's own ({ req, res }) is then used as it is, where a second one
    // would be merged into it property by property on every request. The context reads the request id
    // from the response header set above.
    await yoga(req, res);
  }

  const server = createHttpServer(config.http.limits, (req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Unexpected error.' }] });
      else res.destroy();
    });
  });

  const wss = attachWebSocket(server, yoga, services, log);

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
      if (config.jobConcurrency > 0) workers = await startWorkers(services, config.jobConcurrency);
      await new Promise<void>((ok) => server.listen(config.http.port, config.http.host, ok));
      const { port } = server.address() as AddressInfo;
      url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
      if (config.metrics?.port != null)
        metricsServer = await listenMetrics(serveMetrics, config.metrics.port, config.http.host, log);
      else if (config.metrics && !config.metrics.onPublicPort)
        log.warn('/metrics is served nowhere: in production set METRICS_TOKEN or METRICS_PORT');
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
