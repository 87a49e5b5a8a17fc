import { type ExtractableType, isImageType } from './extraction.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** Every type the pipeline can extract; anything else is refused at upload. */
export const EXTRACTABLE_TYPES: readonly ExtractableType[] = [
  'application/pdf',
  DOCX,
  'text/plain',
  'text/markdown',
  'image/png',
  'image/jpeg',
  'image/tiff',
];

/** How many leading bytes `sniffType` needs to decide. */
export const SNIFF_BYTES = 4096;

/** Above this share of control characters the bytes are not treated as text. */
const MAX_CONTROL_RATIO = 0.01;

/**
 * Decides a document's type from its first bytes (about `SNIFF_BYTES`), never from the client's
 * header; the filename only tells Markdown from plain text. Returns null for anything not extractable.
 * Async because file-type's ZIP inspection (DOCX versus XLSX, ODT, plain ZIP) is. file-type is loaded
 * with the first upload, not at start.
 */
export async function sniffType(head: Uint8Array, filename: string): Promise<ExtractableType | null> {
  const { fileTypeFromBuffer } = await import('file-type');
  const detected = await fileTypeFromBuffer(head);
  if (detected) {
    if (detected.mime === 'application/pdf') return 'application/pdf';
    if (detected.mime === DOCX || isImageType(detected.mime)) return detected.mime;
    return null;
  }
  if (!looksLikeText(head)) return null;
  return /\.(md|markdown)$/i.test(filename) ? 'text/markdown' : 'text/plain';
}

/** Valid UTF-8 (a sequence cut at the end of the head is allowed), no NUL, few control characters. */
function looksLikeText(head: Uint8Array): boolean {
  let text: string;
  try {
    // stream: true holds back an incomplete trailing sequence instead of failing on it.
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    return false;
  }
  let controls = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return false;
    const isControl =
      (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) || (c >= 0x7f && c < 0xa0);
    if (isControl) controls++;
  }
  return controls <= text.length * MAX_CONTROL_RATIO;
}
