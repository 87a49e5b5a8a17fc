import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { UnavailableError } from '../../errors.ts';
import { assertObjectKey, assertObjectPrefix, InvalidObjectKeyError } from './object-key.ts';
import { type ByteRange, NotFoundObjectError, type ObjectStore } from './storage.ts';

const TMP = '.tmp';
// A temp file this old belongs to a process that died mid-put, never to one still writing.
const STALE_TMP_MS = 60 * 60 * 1000;
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
// Uploads are personal data: only the server's user reads them.
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

const codeOf = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;
const unavailable = (err: unknown) => new UnavailableError('object storage', err);

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Objects as files under `dir`. A put writes `dir/.tmp/<uuid>`, fsyncs it and renames it into place,
 * so readers see the old object or the whole new one, and a failed put leaves nothing.
 */
export function createDiskStore(dir: string): ObjectStore {
  const root = resolve(dir);
  const tmpDir = join(root, TMP);

  const pathOf = (key: string): string => {
    assertObjectKey(key);
    if (key === TMP || key.startsWith(`${TMP}/`)) throw new InvalidObjectKeyError(key, 'reserved prefix');
    const path = resolve(root, key);
    // Unreachable after assertObjectKey; kept so a future change to the rules cannot open an escape.
    if (!path.startsWith(root + sep)) throw new InvalidObjectKeyError(key, 'outside the store');
    return path;
  };

  return {
    kind: 'disk',

    async init() {
      try {
        await mkdir(tmpDir, { recursive: true, mode: PRIVATE_DIR });
        const now = Date.now();
        for (const name of await readdir(tmpDir)) {
          const path = join(tmpDir, name);
          const info = await stat(path).catch(() => null);
          if (info && now - info.mtimeMs > STALE_TMP_MS) await rm(path, { force: true, recursive: true });
        }
      } catch (err) {
        throw unavailable(err);
      }
    },

    async put(key: string, body: Readable) {
      let sourceError: unknown;
      const onSourceError = (err: unknown) => {
        sourceError ??= err;
      };
      body.on('error', onSourceError);
      const tmp = join(tmpDir, randomUUID());
      let handle: FileHandle | undefined;
      let target: string | undefined;
      let renamed = false;
      try {
        target = pathOf(key);
        await mkdir(dirname(target), { recursive: true, mode: PRIVATE_DIR });
        handle = await open(tmp, 'wx', PRIVATE_FILE);
        await handle.writeFile(body);
        await handle.sync();
        await handle.close();
        handle = undefined;
        await rename(tmp, target);
        renamed = true;
        await syncDir(dirname(target));
      } catch (err) {
        body.destroy();
        await handle?.close().catch(() => {});
        await rm(tmp, { force: true }).catch(() => {});
        if (renamed && target) await rm(target, { force: true }).catch(() => {});
        if (sourceError !== undefined) throw sourceError;
        if (err instanceof InvalidObjectKeyError) throw err;
        throw unavailable(err);
      } finally {
        body.off('error', onSourceError);
      }
    },

    async get(key: string, range?: ByteRange) {
      const path = pathOf(key);
      let handle: FileHandle | undefined;
      try {
        handle = await open(path, 'r');
        // A directory opens fine on Linux; it is still no object.
        if (!(await handle.stat()).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
        return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
      } catch (err) {
        await handle?.close().catch(() => {});
        if (MISSING.has(codeOf(err) ?? '')) throw new NotFoundObjectError(key);
        throw unavailable(err);
      }
    },

    async stat(key: string) {
      const path = pathOf(key);
      try {
        const info = await stat(path);
        return info.isFile() ? { size: info.size } : null;
      } catch (err) {
        if (MISSING.has(codeOf(err) ?? '')) return null;
        throw unavailable(err);
      }
    },

    async remove(key: string) {
      const path = pathOf(key);
      try {
        await unlink(path);
      } catch (err) {
        if (!MISSING.has(codeOf(err) ?? '')) throw unavailable(err);
      }
    },

    async *list() {
      try {
        for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
          if (!entry.isFile()) continue;
          const key = relative(root, join(entry.parentPath, entry.name)).split(sep).join('/');
          if (key !== TMP && !key.startsWith(`${TMP}/`)) yield key;
        }
      } catch (err) {
        if (!MISSING.has(codeOf(err) ?? '')) throw unavailable(err);
      }
    },

    async removePrefix(prefix: string) {
      assertObjectPrefix(prefix);
      const dir = pathOf(prefix.slice(0, -1));
      try {
        const files = await readdir(dir, { recursive: true, withFileTypes: true });
        await rm(dir, { recursive: true, force: true });
        return files.filter((f) => f.isFile()).length;
      } catch (err) {
        if (MISSING.has(codeOf(err) ?? '')) return 0;
        throw unavailable(err);
      }
    },

    async health() {
      const probe = join(tmpDir, `health-${randomUUID()}`);
      try {
        await writeFile(probe, '');
        await rm(probe);
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
}
