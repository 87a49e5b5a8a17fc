import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ServerContext } from '../app.ts';
import type { Context } from '../context.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services/index.ts';
import { addressCounter } from './address.ts';
import { recheckMs, watchCredential } from './credential-watch.ts';
import { canonicalPath, clientAddress, requestIdFrom } from './util.ts';

type Run = { execute: (a: ExecutionArgs) => unknown; subscribe: (a: ExecutionArgs) => unknown };
type Extra = { socket: WebSocket; request: IncomingMessage };

/** The close code graphql-ws itself uses for a refused connection_init. */
export const FORBIDDEN_CLOSE = 4403;
/** A subscribe payload is a few KiB at most; ws's default (100 MiB) would be buffered before any check. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
const INIT_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_MS = 12_000;

const authorizationOf = (params: Record<string, unknown> | undefined) =>
  typeof params?.authorization === 'string' ? params.authorization : null;

const refuse = (socket: Duplex, status: string) =>
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);

/**
 * graphql-ws (its `makeServer`, wired to `ws` here so that errors reach pino, not the console) on the
 * HTTP server's `/graphql` path. Frames are capped at 64 KiB, sockets per client address at
 * WS_CONNECTIONS_PER_ADDRESS; the staff credential is checked at connection_init (4403 when missing
 * or bad) and watched while the socket is open. Operations go through `yoga.getEnveloped`, so they
 * share the HTTP context (auth from connectionParams), plugins, limits and metrics.
 */
export function attachWebSocket(
  server: Server,
  yoga: YogaServerInstance<ServerContext, Context>,
  services: Pick<Services, 'auth' | 'audit' | 'config'>,
  log: Logger,
): WebSocketServer {
  const { config } = services;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES, handleProtocols });
  const every = recheckMs(config.apiTokens.cacheSeconds);
  const gql = makeServer<Record<string, unknown>, Extra>({
    connectionInitWaitTimeout: INIT_TIMEOUT_MS,
    onConnect: async (ctx) => {
      const authorization = authorizationOf(ctx.connectionParams);
      const viewer = await services.auth.viewer(authorization);
      if (!viewer.authenticated) {
        services.audit.denied({
          viewer,
          reason: viewer.denial ?? 'missing',
          requestId: requestIdFrom(undefined),
          clientIp: clientAddress(ctx.extra.request, config.http.trustProxy),
          field: 'connection_init',
        });
        return false;
      }
      // Closed (4403) when the credential expires or is found revoked while the socket is open.
      const { socket } = ctx.extra;
      const unwatch = watchCredential(
        viewer,
        () => services.auth.viewer(authorization, { fresh: true }),
        every,
        (reason) => {
          if (socket.readyState === socket.OPEN) socket.close(FORBIDDEN_CLOSE, reason);
        },
      );
      socket.once('close', unwatch);
      return true;
    },
    execute: (args) => (args.rootValue as Run).execute(args) as never,
    subscribe: (args) => (args.rootValue as Run).subscribe(args) as never,
    onSubscribe: async (ctx, id, payload) => {
      try {
        const enveloped = yoga.getEnveloped({
          req: ctx.extra.request,
          requestId: requestIdFrom(undefined),
          connectionParams: ctx.connectionParams ?? {},
          transport: 'ws',
          // As Yoga's HTTP context has them: the metrics plugin reads the requested operationName here.
          params: payload,
        });
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document: enveloped.parse(payload.query),
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        const errors = enveloped.validate(args.schema, args.document);
        return errors.length ? errors : args;
      } catch (err) {
        // A malformed operation fails alone; the socket and its other operations carry on.
        if (err instanceof GraphQLError && !err.originalError) {
          log.info({ id, reason: err.message }, 'websocket operation refused');
          return [err];
        }
        log.error({ err, id }, 'websocket operation failed');
        return [new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })];
      }
    },
  });

  const connections = addressCounter(config.http.wsConnectionsPerAddress);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (canonicalPath(req.url) !== '/graphql') return refuse(socket, '404 Not Found');
    // Held from the upgrade until the TCP socket closes, so a failed handshake releases its place too.
    const release = connections.acquire(clientAddress(req, config.http.trustProxy));
    if (!release) {
      log.info('websocket refused: too many connections from one address');
      return refuse(socket, '429 Too Many Requests');
    }
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    // ws has already closed the socket (1009 for an oversized frame, 1002 for a protocol error).
    socket.on('error', (err) => log.info({ reason: err.message }, 'websocket closed on a client error'));
    let alive = true;
    socket.on('pong', () => {
      alive = true;
    });
    const keepAlive = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, KEEP_ALIVE_MS);
    const closed = gql.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((ok, fail) => {
            if (socket.readyState !== socket.OPEN) return ok();
            socket.send(data, (err) => (err ? fail(err) : ok()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) =>
            handle(String(data)).catch((err) => {
              log.error({ err }, 'websocket message failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }),
          ),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      closed(code, String(reason)).catch((err) => log.error({ err }, 'websocket close failed'));
    });
  });
  return wss;
}
