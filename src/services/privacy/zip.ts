import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';

/** A zip entry: bytes in hand (small), or a stream of a known size opened only when its turn comes. */
export type ZipEntry =
  | { name: string; bytes: Buffer; mtime?: Date }
  | { name: string; size: number; mtime?: Date; open: () => Promise<Readable> };

/**
 * A zip made while it is read (yazl): entries are stored, not deflated (PDFs and images are compressed
 * already), so its size is known before the first byte, and one source at a time is open. A source
 * that fails, or holds other than its size in bytes, destroys the zip stream with the error.
 */
export async function streamZip(entries: ZipEntry[]): Promise<{ stream: Readable; size: number }> {
  const zip = new ZipFile();
  // A PassThrough inside; typed as the older NodeJS.ReadableStream.
  const output = zip.outputStream as Readable;
  const sources = new Set<Readable>();
  zip.on('error', (err: Error) => output.destroy(err));
  output.once('close', () => {
    for (const source of sources) source.destroy();
  });
  for (const entry of entries) {
    const options = { compress: false, mtime: entry.mtime ?? new Date() };
    if ('bytes' in entry) {
      zip.addBuffer(entry.bytes, entry.name, options);
      continue;
    }
    zip.addReadStreamLazy(entry.name, { ...options, size: entry.size }, (done) => {
      entry.open().then(
        (source) => {
          // The reader left while this one was being opened.
          if (output.destroyed) return void source.destroy();
          sources.add(source);
          source.once('close', () => sources.delete(source));
          source.once('error', (err) => output.destroy(err));
          done(null, source);
        },
        (err: Error) => done(err, undefined as never),
      );
    });
  }
  // @types/yazl leaves out the callback's argument: the total size (known here: nothing is deflated).
  const size = await new Promise<number>((ok) => zip.end(undefined, ok as unknown as () => void));
  return { stream: output, size };
}
