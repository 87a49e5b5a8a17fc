import type { Logger } from '../../logger.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import type { ErasureService } from './erasure.service.ts';
import type { Retention } from './retention.ts';

/** Daily, at a quiet hour (UTC); pg-boss runs a schedule once across all processes. */
export const RETENTION_CRON = '17 3 * * *';

/** Registers the erasure queue's handler (each run finishes what an earlier one left) and retention's. */
export async function registerPrivacyJobs(deps: {
  jobs: JobQueue;
  erasure: ErasureService;
  retention: Retention;
  log: Logger;
}) {
  const { jobs, erasure, retention, log } = deps;
  await jobs.work<{ erasureId: string }>(QUEUES.erase, 1, async (job) => {
    try {
      return await erasure.run(job.data.erasureId);
    } catch (err) {
      log.warn({ err, erasureId: job.data.erasureId, retry: job.retryCount }, 'erasure attempt failed');
      if (job.retryCount >= job.retryLimit) await erasure.failed(job.data.erasureId, err);
      // pg-boss keeps what a handler throws in the job's output: an SDK's error may carry the request
      // (a search engine's names the document ids), so the job keeps only its kind.
      throw new Error(`erasure attempt failed (${err instanceof Error ? err.name : 'error'})`);
    }
  });
  await jobs.work(QUEUES.retention, 1, () => retention.sweep());
  await jobs.schedule(QUEUES.retention, RETENTION_CRON);
}
