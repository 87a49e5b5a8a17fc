import { DocumentEntity } from '../../entities/index.ts';
import type { Events } from '../events/events.ts';
import type { JobInfo, JobQueue } from '../jobs/job-queue.ts';
import { type NotifyJob, QUEUES } from '../jobs/queues.ts';
import type { IndexRepair } from '../search/index-repair.ts';
import type { SearchService } from '../search/search.service.ts';
import { extractGaveUpStep, extractStep, type StepDeps, type StepOutcome } from './extract.step.ts';
import { indexStep } from './index.step.ts';
import { type NotifyDeps, notifyGaveUpStep, notifyStep } from './notify.step.ts';
import { ocrStep } from './ocr.step.ts';
import { publishStep } from './publish.step.ts';

type Deps = StepDeps &
  NotifyDeps & { events: Events; search: SearchService; jobs: JobQueue; repair: IndexRepair };

const isLastTry = (job: JobInfo<unknown>) => job.retryCount >= job.retryLimit;

/**
 * The pipelines, in their order; each step is a file of its own that reloads by id, skips what is
 * already done and is safe to run twice (a retry, or a crash between two steps).
 *
 *   a document:  extract (→ ocr) → index → publish   (documentProcessed once the document is searchable)
 *   a contact:   notify                                (waits for its documents to be final)
 *
 * A queue job runs one or more steps; the step that makes a document final queues the index job in
 * the transaction that records it, and the index job publishes. Failing jobs end in a dead-letter step.
 */
export function createPipeline(deps: Deps) {
  return {
    async register(concurrency: number) {
      const { jobs, log } = deps;
      const documentStep =
        (step: typeof extractStep) =>
        async (job: JobInfo<{ documentId: string }>): Promise<StepOutcome> => {
          try {
            return await step(deps, job.data.documentId);
          } catch (err) {
            log.warn(
              { err, documentId: job.data.documentId, retry: job.retryCount },
              'extraction attempt failed',
            );
            if (isLastTry(job)) {
              // Keep the last reason for the dead-letter step to report.
              await deps.orm.em
                .fork()
                .nativeUpdate(
                  DocumentEntity,
                  { id: job.data.documentId },
                  { error: String((err as Error).message ?? err) },
                );
            }
            throw err;
          }
        };
      await jobs.work(QUEUES.extract, concurrency, documentStep(extractStep));
      // Its own workers: a long scan never holds up the text documents queued for extraction.
      if (deps.ocr) await jobs.work(QUEUES.ocr, deps.ocr.concurrency, documentStep(ocrStep));
      await jobs.work<{ documentId: string }>(QUEUES.extractFailed, 1, async (job) => {
        const doc = await deps.orm.em.fork().findOne(DocumentEntity, { id: job.data.documentId });
        return extractGaveUpStep(deps, job.data.documentId, doc?.error ?? 'unknown error');
      });
      // index, then publish: one job, so subscribers hear of a document the search already finds.
      await jobs.work<{ documentId: string }>(QUEUES.index, 1, async (job) => {
        try {
          await indexStep(deps, job.data.documentId);
        } catch (err) {
          // An engine outage must not keep subscribers waiting for good: the last try publishes, and
          // the index repair puts the document in the engine once it is back.
          if (!isLastTry(job)) throw err;
          log.warn({ err, documentId: job.data.documentId }, 'indexing gave up; publishing anyway');
        }
        return publishStep(deps, job.data.documentId);
      });
      await jobs.work<NotifyJob>(QUEUES.notify, 1, (job) => notifyStep(deps, job.data.contactIds));
      await jobs.work<NotifyJob>(QUEUES.notifyFailed, 1, (job) =>
        notifyGaveUpStep(deps, job.data.contactIds),
      );
      await jobs.work(QUEUES.repairIndex, 1, () => deps.repair.repair());
      await jobs.schedule(QUEUES.repairIndex, '*/15 * * * *');
    },
  };
}
