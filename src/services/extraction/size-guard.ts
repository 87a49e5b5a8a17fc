import { type ExtractableType, isImageType } from './extraction.ts';

const EOCD = 0x06054b50;
const CENTRAL_HEADER = 0x02014b50;

/**
 * Worst-case heap bytes of the strings a file decodes to (UTF-16, two bytes a character): a text
 * file's own size, a DOCX's declared unzipped size. 0 where it cannot be known up front (PDF).
 * Lets the worker refuse a zip bomb before one huge allocation, which a worker's heap limit does not
 * always catch (it can abort the whole process instead: nodejs/node#47224).
 */
export function decodedSizeEstimate(bytes: Uint8Array, type: ExtractableType): number {
  if (type === 'text/plain' || type === 'text/markdown') return bytes.byteLength * 2;
  if (type === 'application/pdf' || isImageType(type)) return 0; // images: OCR bounds their pixels
  return (declaredUnzippedBytes(bytes) ?? 0) * 2;
}

/** Sum of the uncompressed sizes a ZIP's central directory declares; null when it has none. */
export function declaredUnzippedBytes(bytes: Uint8Array): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record sits in the last 22 bytes plus at most a 64 KB comment.
  let eocd = -1;
  for (let i = bytes.byteLength - 22; i >= Math.max(0, bytes.byteLength - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const entries = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  let total = 0;
  for (let n = 0; n < entries; n++) {
    if (offset + 46 > bytes.byteLength || view.getUint32(offset, true) !== CENTRAL_HEADER) return null;
    const size = view.getUint32(offset + 24, true);
    // 0xffffffff defers to a ZIP64 field: far beyond any budget here, so count it as such.
    total += size === 0xffffffff ? Number.MAX_SAFE_INTEGER / 2 : size;
    offset +=
      46 +
      view.getUint16(offset + 28, true) +
      view.getUint16(offset + 30, true) +
      view.getUint16(offset + 32, true);
  }
  return total;
}
