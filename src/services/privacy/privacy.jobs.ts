import type { Logger } from '../../logger.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import type { ErasureService } from './erasure.service.ts';

/** Registers the erasure queue's handler: each run finishes what an earlier one left. */
export async function registerPrivacyJobs(deps: { jobs: JobQueue; erasure: ErasureService; log: Logger }) {
  const { jobs, erasure, log } = deps;
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
}
