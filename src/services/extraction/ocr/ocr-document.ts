import { imageSize } from 'image-size';
import { type ExtractableType, type ExtractedText, ExtractionError, isImageType } from '../extraction.ts';
import { joinPages, withPdfPages } from '../extractors.ts';
import { pageLacksText } from '../insights.ts';
import {
  checkPageLimit,
  loadOcrEngine,
  MAX_PIXELS,
  type OcrEngine,
  type OcrSettings,
  ocrTimeout,
} from './ocr.ts';

// One engine per OCR process, loaded by the first page; the process (and the engine with it) ends when idle.
let engine: Promise<OcrEngine> | null = null;

function engineFor(settings: OcrSettings): Promise<OcrEngine> {
  engine ??= loadOcrEngine(settings).catch((err) => {
    engine = null;
    throw err;
  });
  return engine;
}

/**
 * The text of a scanned document: an image is recognised whole; a PDF keeps its text layer and each
 * page without one is rendered and recognised in its place. Each page has `pageTimeoutMs`.
 */
export async function ocrDocument(
  bytes: Uint8Array,
  type: ExtractableType,
  settings: OcrSettings,
): Promise<ExtractedText> {
  const ocr = await engineFor(settings);
  if (isImageType(type)) {
    checkImageSize(bytes);
    const text = await ocr.recognize(bytes, settings.pageTimeoutMs);
    return { text: text.trim(), pageCount: 1, scannedPages: [1] };
  }
  if (type !== 'application/pdf') throw new ExtractionError('unsupported', `OCR cannot read ${type}`);
  return withPdfPages(bytes, async (pdf) => {
    const texts = [...pdf.pageTexts];
    const scannedPages = texts.flatMap((text, i) => (pageLacksText(text) ? [i + 1] : []));
    checkPageLimit(scannedPages.length, settings.maxPages);
    for (const page of scannedPages) {
      const deadline = performance.now() + settings.pageTimeoutMs;
      const image = await pdf.render(page, settings.dpi, MAX_PIXELS);
      const left = Math.round(deadline - performance.now());
      if (left <= 0) throw ocrTimeout(`page ${page}`, settings.pageTimeoutMs);
      texts[page - 1] = await ocr.recognize(image, left);
    }
    return { text: joinPages(texts), pageCount: texts.length, scannedPages };
  });
}

/** Refuses an image whose pixels would not fit in memory once decoded (a small file can be huge). */
function checkImageSize(bytes: Uint8Array): void {
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch {
    throw new ExtractionError('malformed', 'The image cannot be read');
  }
  const pixels = (size.width ?? 0) * (size.height ?? 0);
  if (pixels === 0) throw new ExtractionError('malformed', 'The image has no pixels');
  if (pixels > MAX_PIXELS) {
    throw new ExtractionError(
      'memory',
      `The image has ${(pixels / 1e6).toFixed(0)} megapixels; OCR reads at most ${MAX_PIXELS / 1e6}`,
    );
  }
}
