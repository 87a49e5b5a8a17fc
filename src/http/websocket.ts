import type { Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ServerContext } from '../app.ts';
import type { Context, Viewer } from '../context.ts';
import type { Services } from '../services/index.ts';
import { clientAddress, requestIdFrom } from './util.ts';

type Run = { execute: (a: ExecutionArgs) => unknown; subscribe: (a: ExecutionArgs) => unknown };

/** The close code graphql-ws itself uses for a refused connection_init. */
export const FORBIDDEN_CLOSE = 4403;
// setTimeout's ceiling; a credential valid for longer is rechecked when it fires.
const MAX_TIMER_MS = 2_147_483_647;

const authorizationOf = (params: Record<string, unknown> | undefined) =>
  typeof params?.authorization === 'string' ? params.authorization : null;

/**
 * Keeps a socket's credential honest for as long as it is open: closed (4403) when it expires (a
 * JWT's exp, a token's expiresAt) and, for API tokens, rechecked past the cache every `recheckMs`
 * so a revoke closes it within that time.
 */
function watch(socket: WebSocket, viewer: Viewer, recheck: () => Promise<Viewer>, recheckMs: number) {
  const close = (reason: string) => {
    if (socket.readyState === socket.OPEN) socket.close(FORBIDDEN_CLOSE, reason);
  };
  const timers: NodeJS.Timeout[] = [];
  if (viewer.expiresAt) {
    const ms = Math.min(Math.max(0, viewer.expiresAt.getTime() - Date.now()), MAX_TIMER_MS);
    timers.push(setTimeout(() => close('Credential expired'), ms));
  }
  if (viewer.kind === 'api-token') {
    const interval = setInterval(() => {
      recheck()
        .then((v) => {
          if (!v.authenticated) close(`Credential ${v.denial ?? 'refused'}`);
        })
        // A database hiccup is not a revoke: the next round tries again.
        .catch(() => undefined);
    }, recheckMs);
    timers.push(interval);
  }
  for (const t of timers) t.unref();
  socket.once('close', () => {
    for (const t of timers) clearTimeout(t);
  });
}

/**
 * graphql-ws on the HTTP server's `/graphql` path. The staff credential is checked at
 * connection_init (4403 when missing or bad) and watched while the socket is open. Operations go
 * through `yoga.getEnveloped`, so they share the HTTP context (auth from connectionParams),
 * plugins, limits and metrics.
 */
export function attachWebSocket(
  server: Server,
  yoga: YogaServerInstance<ServerContext, Context>,
  services: Pick<Services, 'auth' | 'audit' | 'config'>,
): WebSocketServer {
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const recheckMs = Math.max(1, services.config.apiTokens.cacheSeconds) * 1000;
  useServer<Record<string, unknown>>(
    {
      onConnect: async (ctx) => {
        const authorization = authorizationOf(ctx.connectionParams);
        const viewer = await services.auth.viewer(authorization);
        if (!viewer.authenticated) {
          services.audit.denied({
            viewer,
            reason: viewer.denial ?? 'missing',
            requestId: requestIdFrom(undefined),
            clientIp: clientAddress(ctx.extra.request, services.config.http.trustProxy),
            field: 'connection_init',
          });
          return false;
        }
        watch(
          ctx.extra.socket,
          viewer,
          () => services.auth.viewer(authorization, { fresh: true }),
          recheckMs,
        );
        return true;
      },
      execute: (args) => (args.rootValue as Run).execute(args) as never,
      subscribe: (args) => (args.rootValue as Run).subscribe(args) as never,
      onSubscribe: async (ctx, _id, payload) => {
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
      },
    },
    wss,
  );
  return wss;
}
