import { request } from 'node:http';
import type { GqlError } from './app.ts';
import { STAFF_TOKEN } from './app.ts';
import { UPLOAD } from './upload.ts';

const BOUNDARY = 'dossier-durability-boundary';
const CHUNK = Buffer.alloc(64 * 1024, 'a');

export interface RawUploadResult {
  status: number;
  body: {
    data?: { uploadDocument?: { id: string; size: number; status: string } } | null;
    errors?: GqlError[];
  };
  /** Body bytes handed to the socket when the answer's headers arrived. */
  sentBeforeAnswer: number;
  /** The whole request body. */
  total: number;
}

/**
 * An uploadDocument request whose file (`size` bytes of text) is generated while it is sent, never held
 * whole: with a Content-Length as browsers send it, or chunked when `chunked`.
 */
export function rawUpload(
  url: string,
  size: number,
  opts: {
    chunked?: boolean;
    /** Cut the connection once this many body bytes are sent (resolves with status 0). */
    abortAfter?: number;
  } = {},
): Promise<RawUploadResult> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n` +
      `${JSON.stringify({ query: UPLOAD, variables: { file: null } })}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const total = head.length + size + tail.length;
  function* parts() {
    yield head;
    for (let sent = 0; sent < size; sent += CHUNK.length)
      yield CHUNK.subarray(0, Math.min(CHUNK.length, size - sent));
    yield tail;
  }
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        ...(opts.chunked ? {} : { 'content-length': total }),
        'apollo-require-preflight': 'true',
        authorization: `Bearer ${STAFF_TOKEN}`,
      },
    });
    req.on('response', (res) => {
      answered = true;
      const sentBeforeAnswer = sent;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          sentBeforeAnswer,
          total,
        });
      });
      res.on('error', reject);
    });
    // Once answered, the server may close the connection on the rest of the body: that is expected.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const source = parts();
    const pump = () => {
      for (let next = source.next(); !next.done; next = source.next()) {
        if (opts.abortAfter !== undefined && sent >= opts.abortAfter) {
          // Long enough for the server to have read what was sent.
          setTimeout(() => {
            req.destroy();
            resolve({ status: 0, body: {}, sentBeforeAnswer: sent, total });
          }, 300);
          return;
        }
        sent += next.value.length;
        if (!req.write(next.value)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}
