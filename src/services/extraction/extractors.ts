import mammoth from 'mammoth';
import { PasswordException, PDFParse, VerbosityLevel } from 'pdf-parse';
import {
  type ExtractableType,
  type ExtractedText,
  ExtractionError,
  isAllocationFailure,
  messageOf,
} from './extraction.ts';
import { pageLacksText } from './insights.ts';
import { markdownToText } from './markdown-text.ts';
import { assertDecodedSizeWithin } from './size-guard.ts';

type Extractor = (bytes: Uint8Array) => Promise<ExtractedText>;

/** PDF text through pdf-parse (pdf.js), pages joined by a blank line; pages without text noted for OCR. */
export async function extractPdf(bytes: Uint8Array): Promise<ExtractedText> {
  return withPdfPages(bytes, async ({ pageTexts }) => {
    const scannedPages = pageTexts.flatMap((text, i) => (pageLacksText(text) ? [i + 1] : []));
    return { text: joinPages(pageTexts), pageCount: pageTexts.length, scannedPages };
  });
}

// Joined here: pdf-parse's default joiner adds "-- n of m --" lines that are not the document's text.
export const joinPages = (pageTexts: string[]) =>
  pageTexts
    .map((text) => text.trim())
    .join('\n\n')
    .trim();

/** A PDF opened once: every page's text-layer text, and a PNG rendering of any one page. */
export interface PdfPages {
  pageTexts: string[];
  /** Renders `page` (1-based) at `dpi`, smaller when that would exceed `maxPixels`. */
  render(page: number, dpi: number, maxPixels: number): Promise<Uint8Array>;
}

/** Opens a PDF for `use` and always closes it; a malformed or locked file is an ExtractionError. */
export async function withPdfPages<T>(bytes: Uint8Array, use: (pdf: PdfPages) => Promise<T>): Promise<T> {
  const parser = new PDFParse({ data: bytes, verbosity: VerbosityLevel.ERRORS });
  try {
    let pageTexts: string[];
    try {
      pageTexts = (await parser.getText()).pages.map((page) => page.text);
    } catch (error) {
      if (error instanceof PasswordException) {
        throw new ExtractionError('unsupported', 'The PDF is password-protected');
      }
      throw fileFault(error, 'The file is not a readable PDF');
    }
    return await use({
      pageTexts,
      async render(page, dpi, maxPixels) {
        try {
          const [size] = (await parser.getInfo({ parsePageInfo: true, partial: [page] })).pages;
          const area = Math.max(1, (size?.width ?? 612) * (size?.height ?? 792));
          const scale = Math.min(dpi / 72, Math.sqrt(maxPixels / area));
          const shot = await parser.getScreenshot({ partial: [page], scale, imageDataUrl: false });
          return shot.pages[0]!.data;
        } catch (error) {
          throw fileFault(error, `Page ${page} of the PDF cannot be rendered`);
        }
      },
    });
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
    throw fileFault(error, 'The file is not a readable DOCX document');
  }
}

/** An image has no text layer: its one page waits for OCR. */
export async function extractImage(): Promise<ExtractedText> {
  return { text: '', pageCount: 1, scannedPages: [1] };
}

const extractors: Record<ExtractableType, Extractor> = {
  'application/pdf': extractPdf,
  'text/plain': extractPlainText,
  'text/markdown': extractMarkdown,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': extractDocx,
  'image/png': extractImage,
  'image/jpeg': extractImage,
  'image/tiff': extractImage,
};

export interface ExtractLimits {
  /** Largest decoded text (heap bytes) a text or DOCX may produce; above it ExtractionError('memory'), before decoding. */
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
  await assertDecodedSizeWithin(bytes, type, maxDecodedBytes);
  return extractor(bytes);
}

/** A library's failure on a file: out of memory when an allocation failed, otherwise malformed. */
function fileFault(error: unknown, what: string): ExtractionError {
  if (isAllocationFailure(error)) {
    return new ExtractionError('memory', 'The document needs more memory than extraction allows');
  }
  return new ExtractionError('malformed', `${what} (${messageOf(error)})`);
}
