import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, stopReading } from './util.ts';

/** A GraphQL request that is not an upload is a query and its variables: 1 MiB is plenty. */
export const MAX_BODY_BYTES = 1024 * 1024;

function refuse(req: IncomingMessage, res: ServerResponse): false {
  res.once('finish', () => stopReading(req));
  sendError(
    res,
    413,
    'PAYLOAD_TOO_LARGE',
    `The request body is larger than the limit of ${MAX_BODY_BYTES} bytes`,
    {
      maxBytes: MAX_BODY_BYTES,
    },
  );
  return false;
}

/**
 * The body limit in front of Yoga rather than inside it: Yoga's own pipes every body through a
 * TransformStream, which cost about as much CPU as the rest of a small request. A declared
 * Content-Length over the limit is refused before anything is read (Node's parser never delivers more
 * than was declared); a body without one (chunked) is read here up to the limit and handed to Yoga
 * whole. Resolves true when Yoga should go on, false when this already answered or the client left.
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
    req
      .on('data', onData)
      .once('end', onEnd)
      .once('error', reject)
      // A client gone before the end: nothing to answer.
      .once('close', () => resolve(false));
  });
}
