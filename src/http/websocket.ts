import type { Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { ServerContext } from '../app.ts';
import type { Context } from '../context.ts';
import { requestIdFrom } from './util.ts';

type Run = { execute: (a: ExecutionArgs) => unknown; subscribe: (a: ExecutionArgs) => unknown };

/**
 * graphql-ws on the HTTP server's `/graphql` path. Operations go through `yoga.getEnveloped`, so
 * they share the HTTP context (auth from connectionParams), plugins, limits and metrics.
 */
export function attachWebSocket(
  server: Server,
  yoga: YogaServerInstance<ServerContext, Context>,
): WebSocketServer {
  const wss = new WebSocketServer({ server, path: '/graphql' });
  useServer<Record<string, unknown>>(
    {
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
