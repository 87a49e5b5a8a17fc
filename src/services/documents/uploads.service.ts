import { createHash, randomUUID } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { AppError, badInput, ClientAbortedError, isClientAbort } from '../../errors.ts';
import type { ExtractableType } from '../extraction/extraction.ts';
import { SNIFF_BYTES, sniffType } from '../extraction/sniff.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { ObjectStore } from '../storage/storage.ts';

/**
 * A file as the transport hands it over (see src/http/incoming-file.ts): `open` resolves when its
 * bytes are reached, and rejects when the request ends first; `release` frees what holds it.
 */
export interface IncomingFile {
  open(): Promise<{ filename: string; stream(): Readable }>;
  release(): Promise<void>;
}

export interface StoredFile {
  id: string;
  filename: string;
  contentType: ExtractableType;
  size: number;
  sha256: string;
  storageKey: string;
  documentType: string | null;
}

/** Filenames keep letters, digits and `._-`; no path parts, no control characters, at most 120 characters. */
export function safeFilename(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  const cleaned = base
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}._ -]+/gu, '_')
    .replace(/\s+/g, ' ')
    .replace(/^[.\s]+/, '')
    .trim();
  if (!cleaned) return 'file';
  const dot = cleaned.lastIndexOf('.');
  const ext = dot > 0 && cleaned.length - dot <= 10 ? cleaned.slice(dot) : '';
  return cleaned.length <= 120 ? cleaned : `${cleaned.slice(0, 120 - ext.length)}${ext}`;
}

/** Hashes, counts and sniffs the bytes on their way to storage; refuses a disallowed type before writing. */
class Inspector extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  type: ExtractableType | null = null;
  private head: Buffer[] = [];
  private headBytes = 0;
  private readonly filename: string;
  private readonly maxBytes: number;

  constructor(filename: string, maxBytes: number) {
    super();
    this.filename = filename;
    this.maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.size += chunk.length;
    if (this.size > this.maxBytes) return done(tooLarge(this.maxBytes));
    this.hash.update(chunk);
    if (this.type) return done(null, chunk);
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < SNIFF_BYTES) return done();
    this.decide().then(() => done(), done);
  }

  override _flush(done: TransformCallback) {
    if (this.size === 0) return done(new AppError('BAD_USER_INPUT', `${this.filename} is empty`));
    if (this.type) return done();
    this.decide().then(() => done(), done);
  }

  private async decide() {
    const head = Buffer.concat(this.head);
    this.type = await sniffType(head.subarray(0, SNIFF_BYTES), this.filename);
    if (!this.type)
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `${this.filename}: only PDF, plain text, Markdown, DOCX, PNG, JPEG and TIFF files are accepted`,
      );
    this.head = [];
    this.push(head);
  }
}

const tooLarge = (max: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `A file is larger than the limit of ${max} bytes`, { maxBytes: max });

/** A BAD_USER_INPUT about one file names it in `issues`. */
function withPath(err: unknown, path: (string | number)[]): unknown {
  if (!(err instanceof AppError) || err.code !== 'BAD_USER_INPUT' || err.extensions.issues) return err;
  return badInput(err.message, [{ path, message: err.message }]);
}

const refusalReason = (err: unknown) => {
  const code = (err as Partial<AppError>).code;
  if (code === 'PAYLOAD_TOO_LARGE') return 'too_large';
  if (code === 'UNSUPPORTED_MEDIA_TYPE') return 'type';
  if (err instanceof ClientAbortedError) return 'aborted';
  return code === 'BAD_USER_INPUT' ? 'malformed' : 'error';
};

function mapUploadError(err: unknown, max: number): unknown {
  if (isClientAbort(err)) return new ClientAbortedError();
  const { code, status } = (err ?? {}) as { code?: string; status?: number };
  if (code === 'FILE_TOO_LARGE' || status === 413) return tooLarge(max);
  if (code === 'TOO_MANY_FILES')
    return badInput('Too many files', [{ path: ['attachments'], message: 'too many files' }]);
  return err;
}

export function createUploadService(deps: {
  store: ObjectStore;
  metrics: Metrics;
  maxBytes: number;
  maxFiles: number;
}) {
  const { store, metrics, maxBytes, maxFiles } = deps;

  async function storeOne(
    file: IncomingFile,
    owner: string,
    documentType: string | null,
    path: (string | number)[],
  ): Promise<StoredFile> {
    const upload = await file.open();
    const filename = safeFilename(upload.filename);
    const id = randomUUID();
    const storageKey = `documents/${owner}/${id}/${filename}`;
    const inspector = new Inspector(filename, maxBytes);
    let source: Readable;
    try {
      source = upload.stream();
    } catch (err) {
      throw mapUploadError(err, maxBytes);
    }
    source.once('error', (e) => inspector.destroy(mapUploadError(e, maxBytes) as Error));
    source.pipe(inspector);
    try {
      await store.put(storageKey, inspector, { contentType: 'application/octet-stream' });
    } catch (err) {
      source.destroy();
      await store.remove(storageKey).catch(() => undefined);
      throw withPath(mapUploadError(inspector.errored ?? err, maxBytes), path);
    }
    metrics.uploads.inc();
    metrics.uploadBytes.inc(inspector.size);
    return {
      id,
      filename,
      contentType: inspector.type!,
      size: inspector.size,
      sha256: inspector.hash.digest('hex'),
      storageKey,
      documentType,
    };
  }

  async function removeStored(stored: StoredFile[]) {
    await Promise.all(stored.map((f) => store.remove(f.storageKey).catch(() => undefined)));
  }

  /** Releases the temp files of uploads that will not be stored. */
  async function discard(files: IncomingFile[]) {
    await Promise.all(files.map((f) => f.release()));
  }

  return {
    /** Streams every file to storage; on any failure nothing stays stored. */
    async store(
      files: IncomingFile[],
      owner: string,
      documentType: string | null = null,
      /** The argument the files came in, for BAD_USER_INPUT paths: a list (`attachments`) or one (`file`). */
      field: { name: string; list: boolean } = { name: 'attachments', list: true },
    ): Promise<StoredFile[]> {
      if (files.length > maxFiles) {
        metrics.uploadsRefused.inc({ reason: 'too_many' }, files.length);
        await discard(files);
        throw badInput('Too many files', [{ path: ['attachments'], message: `at most ${maxFiles} files` }]);
      }
      const stored: StoredFile[] = [];
      try {
        for (const [i, f] of files.entries())
          stored.push(await storeOne(f, owner, documentType, field.list ? [field.name, i] : [field.name]));
        return stored;
      } catch (err) {
        metrics.uploadsRefused.inc({ reason: refusalReason(err) });
        await removeStored(stored);
        await discard(files);
        throw err;
      }
    },
    removeStored,
    discard,
    toRow: (f: StoredFile) => ({
      id: f.id,
      filename: f.filename,
      contentType: f.contentType,
      documentType: f.documentType,
      size: f.size,
      sha256: f.sha256,
      storageKey: f.storageKey,
      status: 'PENDING' as const,
      createdAt: new Date(),
    }),
  };
}

export type UploadService = ReturnType<typeof createUploadService>;
