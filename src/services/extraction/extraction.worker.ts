import { type MessagePort, resourceLimits } from 'node:worker_threads';
import { type ExtractableType, type ExtractedText, ExtractionError, type Insights } from './extraction.ts';
import { extract } from './extractors.ts';
import { computeInsights } from './insights.ts';
import type { OcrSettings } from './ocr/ocr.ts';

/** One task, as posted by the pool: the bytes arrive transferred, `started` is told when work begins. */
export interface ExtractionTask {
  bytes: Uint8Array;
  type: ExtractableType;
  started: MessagePort;
  /** Set by the OCR pool: recognise the pages without a text layer. */
  ocr?: OcrSettings;
}

/** Errors cannot cross the thread boundary with their class, so expected failures come back as data. */
export type ExtractionOutcome =
  | { ok: true; extracted: ExtractedText; insights: Insights }
  | { ok: false; reason: ExtractionError['reason']; message: string };

// A tiny PDF parsed once at start-up: pdf.js and ICU load here, before the worker reports ready,
// so their first-use cost is not charged to the first document's time limit.
const WARM_UP_PDF = new TextEncoder().encode(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
try {
  const warm = await extract(WARM_UP_PDF, 'application/pdf');
  computeInsights(`${warm.text} warm up the language detector and the word segmenter`, warm.pageCount);
} catch {
  // A failed warm-up only costs the first task some time.
}

// A decoded text may take a quarter of the heap; the rest is for parsing it and computing insights.
const MAX_DECODED_BYTES = ((resourceLimits.maxOldGenerationSizeMb ?? 256) * 2 ** 20) / 4;

/** Piscina's entry point: extract, then compute insights, inside the worker thread. */
export default async function runExtraction(task: ExtractionTask): Promise<ExtractionOutcome> {
  // The pool's time limit starts now, so queueing and worker start-up are not counted against the file.
  task.started.postMessage('started');
  task.started.close();
  try {
    const extracted = task.ocr
      ? await (await import('./ocr/ocr-document.ts')).ocrDocument(task.bytes, task.type, task.ocr)
      : await extract(task.bytes, task.type, { maxDecodedBytes: MAX_DECODED_BYTES });
    const insights = computeInsights(extracted.text, extracted.pageCount, {
      scannedPages: extracted.scannedPages?.length ?? 0,
      ocr: Boolean(task.ocr),
    });
    return { ok: true, extracted, insights };
  } catch (error) {
    if (error instanceof ExtractionError) return { ok: false, reason: error.reason, message: error.message };
    throw error;
  }
}
