import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { type ExtractableType, ExtractionError, isImageType, messageOf } from './extraction.ts';

const TOO_BIG = 'The document unpacks to more text than the memory limit allows';

/**
 * Refuses, before decoding, a file whose strings (UTF-16, two bytes a character) would pass
 * `maxDecodedBytes`: a text file by its size, a DOCX by the bytes its entries really inflate to,
 * counted while inflating (yauzl stops an entry that outgrows its declared size). PDFs are bounded
 * by the extraction process's memory limit instead: pdf.js's decoders cannot be metered from outside.
 */
export async function assertDecodedSizeWithin(
  bytes: Uint8Array,
  type: ExtractableType,
  maxDecodedBytes: number,
): Promise<void> {
  if (type === 'text/plain' || type === 'text/markdown') {
    if (bytes.byteLength * 2 > maxDecodedBytes) throw new ExtractionError('memory', TOO_BIG);
  } else if (type !== 'application/pdf' && !isImageType(type)) {
    // Images: OCR bounds their pixels.
    await assertUnzipsWithin(bytes, maxDecodedBytes / 2);
  }
}

/** Inflates every entry once, discarding the output, and stops as soon as `maxBytes` would be passed. */
async function assertUnzipsWithin(bytes: Uint8Array, maxBytes: number): Promise<void> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let zip: ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true, validateEntrySizes: true });
  } catch (error) {
    throw new ExtractionError('malformed', `The file is not a readable ZIP package (${messageOf(error)})`);
  }
  let total = 0;
  try {
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      total += entry.uncompressedSize;
      if (total > maxBytes) throw new ExtractionError('memory', TOO_BIG);
      await drain(await zip.openReadStreamPromise(entry));
    }
  } catch (error) {
    if (error instanceof ExtractionError) throw error;
    const lied = /too many bytes/.test(messageOf(error));
    throw new ExtractionError(
      'malformed',
      lied
        ? 'The file unpacks to more than its ZIP headers declare'
        : `The file is not a readable ZIP package (${messageOf(error)})`,
    );
  } finally {
    zip.close();
  }
}

/** The next entry of a lazily read ZIP, or null after the last. */
function nextEntry(zip: ZipFile): Promise<Entry | null> {
  return new Promise((ok, fail) => {
    const settle = (then: () => void) => {
      zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
      then();
    };
    const onEntry = (entry: Entry) => settle(() => ok(entry));
    const onEnd = () => settle(() => ok(null));
    const onError = (error: Error) => settle(() => fail(error));
    zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
    zip.readEntry();
  });
}

async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream) {
    // Only counted: yauzl's size check errors the stream once an entry outgrows its header.
  }
}
