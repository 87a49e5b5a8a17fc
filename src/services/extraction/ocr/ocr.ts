import { ExtractionError } from '../extraction.ts';

export const OCR_ENGINES = ['tesseract.js', 'tesseract'] as const;
export type OcrEngineName = (typeof OCR_ENGINES)[number];

/** OCR's settings, as every task of the OCR pool carries them into its child process. */
export interface OcrSettings {
  engine: OcrEngineName;
  /** Tesseract language codes (`eng`, `deu`, `chi_sim`), read together. */
  languages: string[];
  /** Pages without a text layer that one document may have; more fail it (`page_limit`). */
  maxPages: number;
  /** Time to render and recognise one page; the engine's start-up is not counted. */
  pageTimeoutMs: number;
  /** Resolution PDF pages are rendered at for recognition. */
  dpi: number;
}

/**
 * A text recogniser for one page image (PNG, JPEG or TIFF bytes); each adapter wraps one engine.
 * It loads on first use; `release` frees it (workers, language data) until the next use.
 */
export interface OcrEngine {
  /** The page's text; rejects with ExtractionError('timeout') after `timeoutMs` and restarts the engine. */
  recognize(image: Uint8Array, timeoutMs: number): Promise<string>;
  release(): Promise<void>;
}

/** Larger images are refused and larger PDF pages rendered smaller: recognition needs ~12 bytes a pixel. */
export const MAX_PIXELS = 40_000_000;

/** Starting the engine and parsing the document, beyond the pages' own time. */
const OCR_START_MS = 30_000;

/** The hard limit of one OCR task in its process: every page at its limit, and the start. */
export const ocrTaskTimeoutMs = (s: Pick<OcrSettings, 'maxPages' | 'pageTimeoutMs'>) =>
  s.maxPages * s.pageTimeoutMs + OCR_START_MS;

/** Fails a document with more pages to recognise than the limit allows. */
export function checkPageLimit(pages: number, maxPages: number): void {
  if (pages > maxPages) {
    throw new ExtractionError(
      'page_limit',
      `${pages} pages have no text layer; OCR reads at most ${maxPages} pages of a document`,
    );
  }
}

export const ocrTimeout = (what: string, ms: number) =>
  new ExtractionError('timeout', `OCR of ${what} took longer than ${ms} ms`);

export async function loadOcrEngine(settings: OcrSettings): Promise<OcrEngine> {
  if (settings.engine === 'tesseract') {
    const { createTesseractCliEngine } = await import('./tesseract-cli.engine.ts');
    return createTesseractCliEngine(settings.languages);
  }
  const { createTesseractJsEngine } = await import('./tesseract-js.engine.ts');
  return createTesseractJsEngine(settings.languages);
}
