// The extraction process: one per pool slot, forked by extraction-pool.ts. It parses hostile files,
// so it runs with no secrets in its environment and caps its own memory once it has started.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Insights } from '../../entities/document.entity.ts';
import { type ExtractableType, type ExtractedText, ExtractionError, messageOf } from './extraction.ts';
import { extract } from './extractors.ts';
import { computeInsights } from './insights.ts';
import type { OcrSettings } from './ocr/ocr.ts';

/** One document, as sent by the pool. */
export interface ExtractionRequest {
  id: number;
  bytes: Uint8Array;
  type: ExtractableType;
  /** Set by an OCR pool: recognise the pages without a text layer. */
  ocr?: OcrSettings | undefined;
}

/** Errors cannot cross the process boundary with their class, so expected failures come back as data. */
export type ExtractionOutcome =
  | { ok: true; extracted: ExtractedText; insights: Insights }
  | { ok: false; reason: ExtractionError['reason']; message: string };

/** Sent once, when the process is ready for work; `uncapped` says why no OS memory cap is in force. */
export interface ChildReady {
  ready: true;
  uncapped: string | null;
}

/** The outcome of request `id`, or `error` when extraction broke for a reason not the file's. */
export type ExtractionReply = { id: number; outcome: ExtractionOutcome } | { id: number; error: string };

const memoryMb = Number(process.argv[2]);
// A decoded text may take a quarter of the budget; the rest is for parsing it and computing insights.
const MAX_DECODED_BYTES = (memoryMb * 2 ** 20) / 4;

/** The one place an extraction job runs: inside this bounded process, never in the API process. */
export async function runExtraction(request: Omit<ExtractionRequest, 'id'>): Promise<ExtractionOutcome> {
  try {
    const extracted = request.ocr
      ? await (await import('./ocr/ocr-document.ts')).ocrDocument(request.bytes, request.type, request.ocr)
      : await extract(request.bytes, request.type, { maxDecodedBytes: MAX_DECODED_BYTES });
    const insights = computeInsights(extracted.text, extracted.pageCount, {
      scannedPages: extracted.scannedPages?.length ?? 0,
      ocr: Boolean(request.ocr),
    });
    return { ok: true, extracted, insights };
  } catch (error) {
    if (error instanceof ExtractionError) return { ok: false, reason: error.reason, message: error.message };
    throw error;
  }
}

/**
 * Caps this process's data segment (V8's heap and every Buffer) at its size now plus `mb`, with
 * RLIMIT_DATA set by util-linux `prlimit` (Node has no setrlimit); core dumps off. Past the cap an
 * allocation fails, and the process throws or dies: only this document is lost.
 */
function capMemory(mb: number): string | null {
  try {
    const dataKiB = Number(/^VmData:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
    if (!(dataKiB > 0)) return 'no /proc/self/status';
    const limit = dataKiB * 1024 + mb * 2 ** 20;
    execFileSync('prlimit', ['--pid', String(process.pid), `--data=${limit}`, '--core=0'], {
      stdio: 'ignore',
    });
    return null;
  } catch (error) {
    return messageOf(error);
  }
}

// A tiny PDF parsed once at start-up: pdf.js and ICU load here, before the process reports ready,
// so their first-use cost is not charged to the first document's time limit.
const WARM_UP_PDF = new TextEncoder().encode(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

// Only when forked as this file: importing it (for its types or runExtraction) starts nothing.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const send = process.send.bind(process);
  try {
    const warm = await extract(WARM_UP_PDF, 'application/pdf');
    computeInsights(`${warm.text} warm up the language detector and the word segmenter`, warm.pageCount);
  } catch {
    // A failed warm-up only costs the first document some time.
  }
  const ready: ChildReady = { ready: true, uncapped: capMemory(memoryMb) };
  process.on('message', async ({ id, bytes, type, ocr }: ExtractionRequest) => {
    const reply: ExtractionReply = await runExtraction({ bytes, type, ocr }).then(
      (outcome) => ({ id, outcome }),
      (error: unknown) => ({ id, error: messageOf(error) }),
    );
    send(reply);
  });
  // The pool went away (its process died): nothing is left to do.
  process.on('disconnect', () => process.exit(0));
  send(ready);
}
