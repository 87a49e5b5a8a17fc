import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An incoming x-request-id is kept when it is short and plain; otherwise a new one is made. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[\w.:-]{1,128}$/.test(value) ? value : randomUUID();
}

/**
 * The client's address. Behind a trusted proxy, the last X-Forwarded-For entry is the one that proxy
 * saw; earlier entries come from the client and can be forged.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = req.headers['x-forwarded-for'];
  if (trustProxy && forwarded) {
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    const last = hops.at(-1);
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** A GraphQL-shaped error answer for a request refused before Yoga (body limits, CSRF, routing). */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extensions: Record<string, unknown> = {},
): void {
  sendJson(res, status, { errors: [{ message, extensions: { code, ...extensions } }] });
}

/**
 * The path with repeated and trailing slashes folded (`//graphql/` is `/graphql`), so that every
 * spelling a router might accept is routed, and limited, as one.
 */
export function canonicalPath(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0]!.replace(/\/{2,}/g, '/');
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

// More than a loopback or LAN connection holds in flight, so a client sending at full speed still reads our answer.
const LINGER_BYTES = 16 * 1024 * 1024;
const LINGER_MS = 2_000;

/**
 * A request answered before its body was read (too large, bad type): detach any parser, send FIN so
 * the client stops, and discard what it still sends (at most LINGER_BYTES or LINGER_MS), so that it
 * reads our answer rather than a connection reset; then close.
 */
export function stopReading(req: IncomingMessage) {
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
