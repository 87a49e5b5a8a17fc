import type { IncomingMessage } from 'node:http';
import { Upload } from 'graphql-upload-ts';

/** Room a multipart part takes besides its file's bytes (boundary and part headers), generously. */
const PART_OVERHEAD_BYTES = 16 * 1024;

/** The distinct uploads that processRequest placed in the operations (one per file in the map). */
function uploadsIn(operations: unknown): number {
  const uploads = new Set<Upload>();
  const stack = [operations];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value instanceof Upload) uploads.add(value);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) stack.push(v);
  }
  return uploads.size;
}

/**
 * Counts a multipart body while processRequest parses it. Once the operations are known, a declared
 * Content-Length larger than the bytes read so far plus every file at its limit can only carry a file
 * over the limit: `cannotFit` says so, and the request is refused before the rest of it is read.
 */
export function watchMultipart(req: IncomingMessage, maxFileBytes: number) {
  let read = 0;
  const count = (chunk: Buffer) => {
    read += chunk.length;
  };
  req.on('data', count);
  return {
    cannotFit(operations: unknown): boolean {
      req.off('data', count);
      const declared = Number(req.headers['content-length']);
      if (!Number.isSafeInteger(declared)) return false;
      return declared > read + uploadsIn(operations) * (maxFileBytes + PART_OVERHEAD_BYTES);
    },
    stop: () => req.off('data', count),
  };
}
