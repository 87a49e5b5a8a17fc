import type { IncomingMessage, ServerResponse } from 'node:http';
import { processRequest } from 'graphql-upload-ts';
import { badInput, isClientAbort } from '../errors.ts';
import type { Metrics } from '../services/metrics/metrics.ts';
import { CSRF_MESSAGE, hasCsrfHeader } from './csrf.ts';
import { uploadsIn, watchMultipart } from './upload-limit.ts';
import { sendError, stopReading } from './util.ts';

export const isMultipart = (req: IncomingMessage) =>
  (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');

const EXTRA_FIELDS = 'A multipart request carries the fields operations and map, then files: nothing else';

/**
 * GraphQL multipart requests, parsed by graphql-upload-ts before Yoga (whose own parser holds whole
 * files in memory, and is off): files spool to temp files and the operations land on `req.body`.
 * Resolves true when Yoga should go on, false when this already answered.
 */
export function createMultipartHandler(limits: { maxBytes: number; maxFiles: number }, metrics: Metrics) {
  function rejected(res: ServerResponse, err: unknown) {
    if (isClientAbort(err)) {
      metrics.uploadsRefused.inc({ reason: 'aborted' });
      return false;
    }
    const e = err as { code?: string; message?: string };
    const tooLarge = e.code === 'FILE_TOO_LARGE';
    const reason = tooLarge
      ? 'too_large'
      : /max file uploads/.test(e.message ?? '')
        ? 'too_many'
        : 'malformed';
    metrics.uploadsRefused.inc({ reason });
    if (res.headersSent || res.destroyed) return false;
    sendError(
      res,
      tooLarge ? 413 : 400,
      tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BAD_USER_INPUT',
      e.message ?? 'Invalid multipart request',
      { reason: e.code },
    );
    return false;
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (!hasCsrfHeader(req)) {
      sendError(res, 403, 'FORBIDDEN', CSRF_MESSAGE);
      return false;
    }
    res.once('finish', () => stopReading(req));
    let operations: unknown;
    let extraField = false;
    const body = watchMultipart(req, limits.maxBytes, () => {
      extraField = true;
      // Counting ends at the first file, so operations already running only wait for files: they fail.
      const error = badInput(EXTRA_FIELDS, [{ path: [], message: EXTRA_FIELDS }]);
      for (const upload of uploadsIn(operations)) if (!upload.file) upload.reject(error);
    });
    const parsing = processRequest(req, res, {
      // busboy refuses a file that reaches maxFileSize; MAX_UPLOAD_BYTES itself is allowed.
      maxFileSize: limits.maxBytes + 1,
      maxFiles: limits.maxFiles,
    });
    try {
      operations = await parsing;
    } catch (err) {
      body.stop();
      return rejected(res, err);
    }
    if (extraField) return rejected(res, { message: EXTRA_FIELDS });
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
