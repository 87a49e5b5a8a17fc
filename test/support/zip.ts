import { buffer } from 'node:stream/consumers';
import yauzl from 'yauzl';

/** The entries of a zip, by name; yauzl refuses absolute names, `..` and backslashes on the way. */
export function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((ok, fail) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, zip) => {
      if (err) return fail(err);
      const entries = new Map<string, Buffer>();
      zip.on('error', fail);
      zip.on('end', () => ok(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e) return fail(e);
          buffer(stream).then((b) => {
            entries.set(entry.fileName, b);
            zip.readEntry();
          }, fail);
        });
      });
      zip.readEntry();
    });
  });
}
