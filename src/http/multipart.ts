import type { IncomingMessage, ServerResponse } from 'node:http';
import { processRequest } from 'graphql-upload-ts';
import type { Metrics } from '../services/metrics/metrics.ts';
import { CSRF_MESSAGE, hasCsrfHeader } from './csrf.ts';
import { watchMultipart } from './upload-limit.ts';
import { sendJson } from './util.ts';

// More than a loopback or LAN connection holds in flight, so a client sending at full speed still reads our answer.
const LINGER_BYTES = 16 * 1024 * 1024;
const LINGER_MS = 2_000;

/**
 * An upload answered before its body was read (too large, bad type): detach the multipart parser,
 * send FIN so the client stops, and discard what it still sends (at most LINGER_BYTES or LINGER_MS),
 * so that it reads our answer rather than a connection reset; then close.
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

export const isMultipart = (req: IncomingMessage) =>
  (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');

/**
 * GraphQL multipart requests, parsed by graphql-upload-ts before Yoga (whose own parser holds whole
 * files in memory): files spool to temp files and the operations land on `req.body`.
 * Resolves true when Yoga should go on, false when this already answered.
 */
export function createMultipartHandler(limits: { maxBytes: number; maxFiles: number }, metrics: Metrics) {
  function rejected(res: ServerResponse, err: unknown) {
    const e = err as { code?: string; message?: string };
    const tooLarge = e.code === 'FILE_TOO_LARGE';
    const reason = tooLarge
      ? 'too_large'
      : /max file uploads/.test(e.message ?? '')
        ? 'too_many'
        : 'malformed';
    metrics.uploadsRefused.inc({ reason });
    sendJson(res, tooLarge ? 413 : 400, {
      errors: [
        {
          message: e.message ?? 'Invalid multipart request',
          extensions: { code: tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BAD_USER_INPUT', reason: e.code },
        },
      ],
    });
    return false;
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (!hasCsrfHeader(req)) {
      sendJson(res, 403, { errors: [{ message: CSRF_MESSAGE, extensions: { code: 'FORBIDDEN' } }] });
      return false;
    }
    res.once('finish', () => stopReading(req));
    const parsing = processRequest(req, res, {
      // busboy refuses a file that reaches maxFileSize; MAX_UPLOAD_BYTES itself is allowed.
      maxFileSize: limits.maxBytes + 1,
      maxFiles: limits.maxFiles,
    });
    const body = watchMultipart(req, limits.maxBytes);
    let operations: unknown;
    try {
      operations = await parsing;
    } catch (err) {
      body.stop();
      return rejected(res, err);
    }
    if (body.cannotFit(operations)) {
      return rejected(res, {
        code: 'FILE_TOO_LARGE',
        message: `A file is larger than the limit of ${limits.maxBytes} bytes`,
      });
    }
    (req as IncomingMessage & { body?: unknown }).body = operations;
    // Yoga's whole-body limit would count the files too; processRequest enforces the per-file limit.
    delete req.headers['content-length'];
    return true;
  };
}
