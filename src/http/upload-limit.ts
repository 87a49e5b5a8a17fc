import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { Upload } from 'graphql-upload-ts';

/** Room a multipart part takes besides its file's bytes (boundary and part headers), generously. */
const PART_OVERHEAD_BYTES = 16 * 1024;

/** The distinct uploads that processRequest placed in the operations (one per file in the map). */
export function uploadsIn(operations: unknown): Set<Upload> {
  const uploads = new Set<Upload>();
  const stack = [operations];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value instanceof Upload) uploads.add(value);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) stack.push(v);
  }
  return uploads;
}

/**
 * Watches a multipart body while processRequest parses it.
 * - Once the operations are known, a declared Content-Length larger than the bytes read so far plus
 *   every file at its limit can only carry a file over the limit: `cannotFit` says so, and the
 *   request is refused before the rest of it is read.
 * - graphql-upload-ts's parser silently skips fields past `operations` and `map`, however many; a
 *   second busboy (its values not kept) counts them and calls `onExtraField` at the first one. It
 *   stops at the first file, so the files' bytes are parsed once (what follows is bounded by the
 *   answer: the request is not read long after it).
 */
export function watchMultipart(req: IncomingMessage, maxFileBytes: number, onExtraField: () => void) {
  let read = 0;
  const fields = busboy({ headers: req.headers, limits: { fields: 2, files: 0, fieldSize: 0 } });
  fields.on('error', () => undefined); // malformed bodies are graphql-upload-ts's to report
  fields.once('fieldsLimit', onExtraField);
  let counting = true;
  fields.once('filesLimit', () => {
    counting = false;
  });
  const count = (chunk: Buffer) => {
    read += chunk.length;
    if (counting) fields.write(chunk);
  };
  req.on('data', count);
  const stop = () => {
    req.off('data', count);
    fields.destroy();
  };
  req.once('end', stop);
  return {
    cannotFit(operations: unknown): boolean {
      const declared = Number(req.headers['content-length']);
      if (!Number.isSafeInteger(declared)) return false;
      return declared > read + uploadsIn(operations).size * (maxFileBytes + PART_OVERHEAD_BYTES);
    },
    stop,
  };
}
