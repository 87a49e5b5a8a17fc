import { buffer } from 'node:stream/consumers';
import type { MikroORM } from '@mikro-orm/postgresql';
import { DocumentEntity } from '../../entities/index.ts';
import type { Logger } from '../../logger.ts';
import type { Events } from '../events/events.ts';
import { type ExtractableType, ExtractionError } from '../extraction/extraction.ts';
import type { ExtractionPool } from '../extraction/extraction-pool.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { ObjectStore } from '../storage/storage.ts';

export interface StepDeps {
  orm: MikroORM;
  store: ObjectStore;
  pool: ExtractionPool;
  events: Events;
  metrics: Metrics;
  jobs: JobQueue;
  log: Logger;
}

export type StepOutcome = 'done' | 'skipped' | 'failed';

/** Marks the document final, queues its indexing in the same transaction, then tells subscribers. */
async function finish(
  deps: StepDeps,
  id: string,
  patch: Partial<{
    status: 'COMPLETED' | 'FAILED';
    error: string | null;
    text: string | null;
    insights: unknown;
  }>,
) {
  const em = deps.orm.em.fork();
  const doc = await em.transactional(async (tx) => {
    const d = await tx.findOneOrFail(DocumentEntity, { id });
    tx.assign(d, { ...patch, processedAt: new Date() } as never);
    await tx.flush();
    if (patch.status === 'COMPLETED') await deps.jobs.enqueue(tx, QUEUES.index, { documentId: id });
    return d;
  });
  deps.metrics.documentsProcessed.inc({ status: doc.status });
  if (patch.status === 'COMPLETED') deps.jobs.wake(QUEUES.index);
  await deps.events.publishDocumentProcessed({
    documentId: id,
    contactId: doc.contact?.id ?? null,
    status: doc.status as 'COMPLETED' | 'FAILED',
  });
}

/**
 * Extraction step: reload by id, skip when already final, extract in the pool, store text and insights.
 * A file's own fault (malformed, timeout, memory) fails the document at once; anything else throws
 * so the queue retries, and the dead-letter step records the last reason.
 */
export async function extractStep(deps: StepDeps, documentId: string): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const doc = await em.findOne(DocumentEntity, { id: documentId });
  if (!doc || doc.status === 'COMPLETED' || doc.status === 'FAILED') return 'skipped';
  doc.status = 'PROCESSING';
  doc.attempts += 1;
  await em.flush();
  const started = performance.now();
  const bytes = await buffer(await deps.store.get(doc.storageKey));
  try {
    const { extracted, insights } = await deps.pool.extract(
      new Uint8Array(bytes),
      doc.contentType as ExtractableType,
    );
    deps.metrics.extractionDuration.observe({ type: doc.contentType }, (performance.now() - started) / 1000);
    await finish(deps, documentId, { status: 'COMPLETED', error: null, text: extracted.text, insights });
    return 'done';
  } catch (err) {
    if (!(err instanceof ExtractionError)) throw err;
    deps.metrics.extractionFailures.inc({ reason: err.reason });
    await finish(deps, documentId, { status: 'FAILED', error: err.message });
    return 'failed';
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
  await finish(deps, documentId, { status: 'FAILED', error: `Extraction failed after retries: ${reason}` });
  return 'failed';
}
