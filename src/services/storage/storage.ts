import type { Readable } from 'node:stream';

export interface ObjectInfo {
  size: number;
}

/** Bytes `start` to `end`, both included (an HTTP Range). */
export interface ByteRange {
  start: number;
  end: number;
}

/** Object storage. Keys are `/`-separated relative paths; adapters never see user paths unsanitised. */
export interface ObjectStore {
  readonly kind: 's3' | 'disk';
  /** Creates the bucket or directory when missing. Called once at start. */
  init(): Promise<void>;
  /** Streams `body` to `key`; resolves once the object is fully written, rejects leaving nothing behind. */
  put(key: string, body: Readable, meta: { contentType: string }): Promise<void>;
  /** Streams the object, or the given bytes of it; rejects with NotFoundObjectError when missing. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * A GET URL straight to the object, valid `ttlSeconds`, answered with these headers; only where
   * the backend signs such links itself (S3). Absent: the server streams the bytes itself.
   */
  presignGet?(
    key: string,
    ttlSeconds: number,
    response: { contentType: string; contentDisposition: string },
  ): Promise<string>;
  /** Size of the object, or null when missing. */
  stat(key: string): Promise<ObjectInfo | null>;
  /** Removes the object; a missing object is not an error. */
  remove(key: string): Promise<void>;
  /** Every key in the store, in no particular order (backups walk the whole store). */
  list(): AsyncIterable<string>;
  /**
   * Removes every object whose key starts with `prefix` (which must end in `/`) and, on a versioned
   * bucket, every version and delete marker of them; answers how many entries it removed.
   */
  removePrefix(prefix: string): Promise<number>;
  /** Resolves when the store answers; rejects with UnavailableError otherwise. */
  health(): Promise<void>;
}

export class NotFoundObjectError extends Error {
  constructor(key: string) {
    // The key ends in the uploaded file's name: personal data, kept out of the message (and so out of logs).
    super(`object not found: ${key.split('/').slice(0, -1).join('/')}/…`);
  }
}
