import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidObjectKeyError } from '../../../src/services/storage/object-key.ts';
import { NotFoundObjectError, type ObjectStore } from '../../../src/services/storage/storage.ts';

export interface StoreHarness {
  store: ObjectStore;
  /** What a put may leave behind while writing (temp files, incomplete multipart uploads). */
  leftovers(): Promise<string[]>;
  /**
   * Versioned buckets only: every version and delete marker under `prefix`. When set, the contract
   * also checks that removePrefix leaves no version behind.
   */
  versions?(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
const meta = { contentType: 'application/octet-stream' };

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A byte stream (not object mode) of `data` in `chunkSize` pieces, yielding to the event loop as a socket would. */
export function streamOf(data: Buffer, chunkSize = 64 * 1024): Readable {
  return Readable.from(
    (async function* () {
      for (let at = 0; at < data.length; at += chunkSize) {
        if ((at / chunkSize) % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
        yield data.subarray(at, at + chunkSize);
      }
    })(),
    { objectMode: false },
  );
}

/** A byte stream that sends `bytes` bytes and then fails with `error`. */
export function failingStream(bytes: number, error: Error): Readable {
  return Readable.from(
    (async function* () {
      yield* streamOf(randomBytes(bytes));
      throw error;
    })(),
    { objectMode: false },
  );
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const BAD_KEYS = [
  '',
  '/etc/passwd',
  '../escape',
  'a/../../escape',
  'a/./b',
  '.',
  'a//b',
  'a/',
  'a\\b',
  'a\0b',
  'a\nb',
];

/** The behaviour every ObjectStore must show, run against a fresh store from `setup`. */
export function objectStoreContract(name: string, setup: () => Promise<StoreHarness>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let h: StoreHarness;
    let store: ObjectStore;
    const key = (file = 'file.bin') => `documents/unassigned/${randomUUID()}/${file}`;

    beforeAll(async () => {
      h = await setup();
      store = h.store;
      await store.init();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('round-trips every byte value exactly and reports the size', async () => {
      const data = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        randomBytes(100_000),
      ]);
      const k = key('report.pdf');
      await store.put(k, streamOf(data, 4096), { contentType: 'application/pdf' });
      const back = await readAll(await store.get(k));
      expect(back.equals(data)).toBe(true);
      expect(await store.stat(k)).toEqual({ size: data.length });
      expect(await h.leftovers()).toEqual([]);
    });

    it('lists every stored key, and no longer a removed one', async () => {
      const keys = [key('a.bin'), key('b.bin')];
      for (const k of keys) await store.put(k, streamOf(Buffer.from(k)), meta);
      const listed = async () => {
        const all: string[] = [];
        for await (const k of store.list()) all.push(k);
        return all;
      };
      expect(await listed()).toEqual(expect.arrayContaining(keys));
      await store.remove(keys[0]);
      const after = await listed();
      expect(after).toContain(keys[1]);
      expect(after).not.toContain(keys[0]);
      expect(after.every((k) => !k.startsWith('.tmp'))).toBe(true);
    });

    it('streams a byte range, both ends included', async () => {
      const data = randomBytes(70_000);
      const k = key('range.bin');
      await store.put(k, streamOf(data), meta);
      for (const [start, end] of [
        [0, 9],
        [5, 5],
        [1000, 65_535],
        [69_990, 69_999],
      ] as const) {
        expect(
          (await readAll(await store.get(k, { start, end }))).equals(data.subarray(start, end + 1)),
        ).toBe(true);
      }
    });

    it('stores an empty object', async () => {
      const k = key('empty.txt');
      await store.put(k, Readable.from([], { objectMode: false }), { contentType: 'text/plain' });
      expect(await store.stat(k)).toEqual({ size: 0 });
      expect((await readAll(await store.get(k))).length).toBe(0);
    });

    it('keeps keys with spaces, accents and punctuation distinct and intact', async () => {
      const names = [
        'Résumé été (v2).txt',
        'a+b c.txt',
        'a b c.txt',
        '100% sure; ok=1 & more.txt',
        '日本語.md',
      ];
      const prefix = key('');
      for (const n of names) await store.put(`${prefix}${n}`, streamOf(Buffer.from(n)), meta);
      for (const n of names) expect((await readAll(await store.get(`${prefix}${n}`))).toString()).toBe(n);
    });

    it('streams 12 MiB of unknown length through and back', async () => {
      const data = randomBytes(12 * MiB + 12_345);
      const k = key('big.bin');
      await store.put(k, streamOf(data), meta);
      expect(await store.stat(k)).toEqual({ size: data.length });
      const back = await readAll(await store.get(k));
      expect(back.length).toBe(data.length);
      expect(sha256(back)).toBe(sha256(data));
      expect(await h.leftovers()).toEqual([]);
    });

    it('overwrites an existing object completely', async () => {
      const k = key();
      await store.put(k, streamOf(randomBytes(50_000)), meta);
      const second = Buffer.from('short');
      await store.put(k, streamOf(second), meta);
      expect((await readAll(await store.get(k))).equals(second)).toBe(true);
      expect(await store.stat(k)).toEqual({ size: second.length });
    });

    it('stat answers null for a missing object and get rejects with NotFoundObjectError', async () => {
      const k = key('never-written.bin');
      expect(await store.stat(k)).toBeNull();
      await expect(store.get(k)).rejects.toBeInstanceOf(NotFoundObjectError);
    });

    it('remove deletes and is idempotent', async () => {
      const k = key();
      await store.put(k, streamOf(Buffer.from('bye')), meta);
      await store.remove(k);
      expect(await store.stat(k)).toBeNull();
      await expect(store.get(k)).rejects.toBeInstanceOf(NotFoundObjectError);
      await expect(store.remove(k)).resolves.toBeUndefined();
      await expect(store.remove(key('never-written.bin'))).resolves.toBeUndefined();
    });

    it('removePrefix removes everything under a folder, nothing beside it, and may run again', async () => {
      const folder = `documents/${randomUUID()}/`;
      const inside = [`${folder}a/one.pdf`, `${folder}b/two words.txt`, `${folder}b/three.bin`];
      const beside = `${folder.slice(0, -1)}-other/keep.bin`;
      for (const k of [...inside, beside]) await store.put(k, streamOf(Buffer.from(k)), meta);
      expect(await store.removePrefix(folder)).toBe(inside.length);
      for (const k of inside) expect(await store.stat(k)).toBeNull();
      expect(await store.stat(beside)).toEqual({ size: Buffer.byteLength(beside) });
      expect(await store.removePrefix(folder)).toBe(0);
      for (const bad of ['documents', '../x/', 'a//', '/abs/']) {
        await expect(store.removePrefix(bad)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      }
    });

    it('removePrefix removes every version of a versioned bucket', async (ctx) => {
      if (!h.versions) return ctx.skip();
      const folder = `documents/${randomUUID()}/`;
      const k = `${folder}cv.pdf`;
      await store.put(k, streamOf(Buffer.from('first')), meta);
      await store.put(k, streamOf(Buffer.from('second')), meta);
      await store.remove(k);
      expect((await h.versions(folder)).length).toBe(3);
      await store.removePrefix(folder);
      expect(await h.versions(folder)).toEqual([]);
    });

    it('a source failing halfway rejects with its own error and leaves nothing', async () => {
      const k = key();
      const boom = new Error('client went away');
      await expect(store.put(k, failingStream(9 * MiB, boom), meta)).rejects.toBe(boom);
      expect(await store.stat(k)).toBeNull();
      await expect(store.get(k)).rejects.toBeInstanceOf(NotFoundObjectError);
      expect(await h.leftovers()).toEqual([]);
    });

    it('a source failing before its first byte leaves nothing', async () => {
      const k = key();
      const boom = new Error('nothing sent');
      await expect(store.put(k, failingStream(0, boom), meta)).rejects.toBe(boom);
      expect(await store.stat(k)).toBeNull();
      expect(await h.leftovers()).toEqual([]);
    });

    it('a failed overwrite keeps the previous object intact', async () => {
      const k = key();
      const old = randomBytes(30_000);
      await store.put(k, streamOf(old), meta);
      const boom = new Error('upload cut');
      await expect(store.put(k, failingStream(9 * MiB, boom), meta)).rejects.toBe(boom);
      expect((await readAll(await store.get(k))).equals(old)).toBe(true);
      expect(await h.leftovers()).toEqual([]);
    });

    it('keeps concurrent puts apart', async () => {
      const items = Array.from({ length: 6 }, (_, i) => ({
        k: key(`part-${i}.bin`),
        data: randomBytes(200_000 + i),
      }));
      await Promise.all(items.map(({ k, data }) => store.put(k, streamOf(data), meta)));
      for (const { k, data } of items) expect(sha256(await readAll(await store.get(k)))).toBe(sha256(data));
    });

    it.each(BAD_KEYS)('refuses the key %j on every operation', async (bad) => {
      const body = streamOf(Buffer.from('x'));
      await expect(store.put(bad, body, meta)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      expect(body.destroyed).toBe(true);
      await expect(store.get(bad)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.stat(bad)).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.remove(bad)).rejects.toBeInstanceOf(InvalidObjectKeyError);
    });

    it('is healthy, and init may run again', async () => {
      await expect(store.health()).resolves.toBeUndefined();
      await expect(store.init()).resolves.toBeUndefined();
      await expect(store.health()).resolves.toBeUndefined();
    });
  });
}
