import mammoth from 'mammoth';
import { PasswordException, PDFParse, VerbosityLevel } from 'pdf-parse';
import { type ExtractableType, type ExtractedText, ExtractionError } from './extraction.ts';
import { markdownToText } from './markdown-text.ts';
import { decodedSizeEstimate } from './size-guard.ts';

type Extractor = (bytes: Uint8Array) => Promise<ExtractedText>;

/** PDF text through pdf-parse (pdf.js), pages joined by a blank line. */
export async function extractPdf(bytes: Uint8Array): Promise<ExtractedText> {
  const parser = new PDFParse({ data: bytes, verbosity: VerbosityLevel.ERRORS });
  try {
    const result = await parser.getText();
    // Joined here: pdf-parse's default joiner adds "-- n of m --" lines that are not the document's text.
    const text = result.pages.map((page) => page.text.trim()).join('\n\n');
    return { text: text.trim(), pageCount: result.total };
  } catch (error) {
    if (error instanceof PasswordException) {
      throw new ExtractionError('unsupported', 'The PDF is password-protected');
    }
    throw new ExtractionError('malformed', `The file is not a readable PDF (${messageOf(error)})`);
  } finally {
    await parser.destroy();
  }
}

/** UTF-8 text, BOM stripped; invalid sequences become U+FFFD rather than failing the whole file. */
export async function extractPlainText(bytes: Uint8Array): Promise<ExtractedText> {
  return { text: new TextDecoder('utf-8').decode(bytes), pageCount: null };
}

/** Markdown reduced to its words (headings, emphasis, link text, code kept as text). */
export async function extractMarkdown(bytes: Uint8Array): Promise<ExtractedText> {
  const { text } = await extractPlainText(bytes);
  return { text: markdownToText(text), pageCount: null };
}

/** DOCX body text through mammoth; paragraphs separated by blank lines. */
export async function extractDocx(bytes: Uint8Array): Promise<ExtractedText> {
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const result = await mammoth.extractRawText({ buffer });
    return { text: result.value.trim(), pageCount: null };
  } catch (error) {
    throw new ExtractionError('malformed', `The file is not a readable DOCX document (${messageOf(error)})`);
  }
}

const extractors: Record<ExtractableType, Extractor> = {
  'application/pdf': extractPdf,
  'text/plain': extractPlainText,
  'text/markdown': extractMarkdown,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': extractDocx,
};

export interface ExtractLimits {
  /** Largest decoded text (heap bytes) a file may produce; above it ExtractionError('memory'), before decoding. */
  maxDecodedBytes?: number;
}

/** Extracts the text of `bytes`, already sniffed as `type`; throws ExtractionError for bad files. */
export async function extract(
  bytes: Uint8Array,
  type: ExtractableType,
  limits: ExtractLimits = {},
): Promise<ExtractedText> {
  const extractor = extractors[type];
  if (!extractor) throw new ExtractionError('unsupported', `Cannot extract ${type}`);
  const { maxDecodedBytes = Number.POSITIVE_INFINITY } = limits;
  if (decodedSizeEstimate(bytes, type) > maxDecodedBytes) {
    throw new ExtractionError('memory', 'The document unpacks to more text than the memory limit allows');
  }
  return extractor(bytes);
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
