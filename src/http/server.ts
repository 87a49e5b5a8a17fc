import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { addressCounter } from './address.ts';

export interface ServerLimits {
  /** Time a client has to send its request headers; a slowloris client is dropped after it. */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request: a 25 MiB upload on a slow link must fit. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** TCP connections one address (an IPv6 /64) may hold; 0: no cap (a proxy in front caps them). */
  connectionsPerAddress: number;
}

/**
 * The node HTTP server with timeouts suited to the app and a per-address connection cap, so that one
 * client holding connections open cannot starve the others.
 */
export function createHttpServer(
  limits: ServerLimits,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often the two timeouts above are checked (node's default, 30 s, would let them run over).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    handler,
  );
  if (limits.connectionsPerAddress > 0) {
    const connections = addressCounter(limits.connectionsPerAddress);
    server.on('connection', (socket: Socket) => {
      const release = connections.acquire(socket.remoteAddress ?? 'unknown');
      if (!release) return socket.destroy();
      socket.once('close', release);
    });
  }
  return server;
}
