import { buffer } from 'node:stream/consumers';
import { LockMode, type MikroORM } from '@mikro-orm/postgresql';
import { DocumentEntity } from '../../entities/index.ts';
import type { Logger } from '../../logger.ts';
import { type ExtractableType, type ExtractedText, ExtractionError } from '../extraction/extraction.ts';
import type { ExtractionPool } from '../extraction/extraction-pool.ts';
import { checkPageLimit } from '../extraction/ocr/ocr.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { NotFoundObjectError, type ObjectStore } from '../storage/storage.ts';

export interface StepDeps {
  orm: MikroORM;
  store: ObjectStore;
  pool: ExtractionPool;
  /** OCR's own pool and workers (null: OCR off; scanned pages stay unread and `needsOcr` says so). */
  ocr: { pool: ExtractionPool; maxPages: number; concurrency: number } | null;
  metrics: Metrics;
  jobs: JobQueue;
  log: Logger;
}

export type StepOutcome = 'done' | 'skipped' | 'failed';

/**
 * Marks the document final and queues its next steps (index, then publish) in the same transaction;
 * 'skipped' when the document was erased meanwhile.
 */
async function finish(
  deps: StepDeps,
  id: string,
  patch: Partial<{
    status: 'COMPLETED' | 'FAILED';
    error: string | null;
    text: string | null;
    insights: unknown;
  }>,
): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const doc = await em.transactional(async (tx) => {
    // Locked, so that an erasure deleting it waits for this transaction (and removes the job it queues).
    const d = await tx.findOne(DocumentEntity, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!d) return null;
    tx.assign(d, { ...patch, processedAt: new Date() } as never);
    await tx.flush();
    await deps.jobs.enqueue(tx, QUEUES.index, { documentId: id });
    return d;
  });
  // Erased meanwhile: nothing to record, index or announce.
  if (!doc) return 'skipped';
  deps.metrics.documentsProcessed.inc({ status: doc.status });
  deps.jobs.wake(QUEUES.index);
  return patch.status === 'COMPLETED' ? 'done' : 'failed';
}

/**
 * Extraction step: reload by id, skip when already final, extract in the pool, store text and insights.
 * A document with pages to recognise is handed to the OCR queue instead (it stays PROCESSING).
 * A file's own fault (malformed, timeout, memory) fails the document at once; anything else throws
 * so the queue retries, and the dead-letter step records the last reason.
 */
export function extractStep(deps: StepDeps, documentId: string): Promise<StepOutcome> {
  return processDocument(deps, documentId, deps.pool, async ({ scannedPages = [] }) => {
    if (!deps.ocr || scannedPages.length === 0) return false;
    checkPageLimit(scannedPages.length, deps.ocr.maxPages);
    // Outside a transaction: a crash before the enqueue leaves the extraction job to run again.
    await deps.jobs.enqueue(null, QUEUES.ocr, { documentId }, { singletonKey: documentId });
    deps.jobs.wake(QUEUES.ocr);
    return true;
  });
}

/**
 * Runs `pool` on the document and records the result. `handOver` may pass the document on to a
 * later step instead (true), leaving it PROCESSING.
 */
export async function processDocument(
  deps: StepDeps,
  documentId: string,
  pool: ExtractionPool,
  handOver: (extracted: ExtractedText) => Promise<boolean> = async () => false,
): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const doc = await em.findOne(DocumentEntity, { id: documentId });
  if (!doc || doc.status === 'COMPLETED' || doc.status === 'FAILED') return 'skipped';
  doc.status = 'PROCESSING';
  doc.attempts += 1;
  await em.flush();
  const started = performance.now();
  let bytes: Buffer;
  try {
    bytes = await buffer(await deps.store.get(doc.storageKey));
  } catch (err) {
    // Erased while this job waited: the row is gone too, or about to be.
    if (err instanceof NotFoundObjectError && !(await em.fork().count(DocumentEntity, { id: documentId })))
      return 'skipped';
    throw err;
  }
  try {
    const { extracted, insights } = await pool.extract(
      new Uint8Array(bytes),
      doc.contentType as ExtractableType,
    );
    if (await handOver(extracted)) return 'done';
    const seconds = (performance.now() - started) / 1000;
    if (insights.ocr) {
      deps.metrics.ocrDuration.observe(seconds);
      deps.metrics.ocrPages.inc(extracted.scannedPages?.length ?? 0);
    } else deps.metrics.extractionDuration.observe({ type: doc.contentType }, seconds);
    return await finish(deps, documentId, {
      status: 'COMPLETED',
      error: null,
      text: extracted.text,
      insights,
    });
  } catch (err) {
    if (!(err instanceof ExtractionError)) throw err;
    deps.metrics.extractionFailures.inc({ reason: err.reason });
    return finish(deps, documentId, { status: 'FAILED', error: err.message });
  }
}

/** Dead-letter step: the queue gave up on a document; record why, so it never stays PROCESSING. */
export async function extractGaveUpStep(
  deps: StepDeps,
  documentId: string,
  reason: string,
): Promise<StepOutcome> {
  const doc = await deps.orm.em.fork().findOne(DocumentEntity, { id: documentId });
  if (!doc || doc.status === 'COMPLETED' || doc.status === 'FAILED') return 'skipped';
  deps.metrics.extractionFailures.inc({ reason: 'retries_exhausted' });
  return finish(deps, documentId, { status: 'FAILED', error: `Extraction failed after retries: ${reason}` });
}
