import type { IncomingMessage, ServerResponse } from 'node:http';
import { stopReading } from './multipart.ts';
import { sendJson } from './util.ts';

/** The largest request body (Yoga's default limit, which this replaces). */
export const MAX_BODY_BYTES = 25_000_000;

function refuse(req: IncomingMessage, res: ServerResponse): false {
  res.once('finish', () => stopReading(req));
  sendJson(res, 413, {
    errors: [
      {
        message: `The request body is larger than the limit of ${MAX_BODY_BYTES} bytes`,
        extensions: { code: 'PAYLOAD_TOO_LARGE' },
      },
    ],
  });
  return false;
}

/**
 * The body limit in front of Yoga rather than inside it: Yoga's own pipes every body through a
 * TransformStream, which cost about as much CPU as the rest of a small request. A declared
 * Content-Length over the limit is refused before anything is read (Node's parser never delivers more
 * than was declared); a body without one (chunked) is read here up to the limit and handed to Yoga
 * whole. Resolves true when Yoga should go on, false when this already answered.
 */
export function limitBody(req: IncomingMessage, res: ServerResponse): Promise<boolean> | boolean {
  const declared = req.headers['content-length'];
  if (declared !== undefined) return Number(declared) <= MAX_BODY_BYTES || refuse(req, res);
  if (req.headers['transfer-encoding'] === undefined) return true;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return chunks.push(chunk);
      req.off('data', onData).off('end', onEnd);
      resolve(refuse(req, res));
    };
    const onEnd = () => {
      (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks);
      resolve(true);
    };
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}
