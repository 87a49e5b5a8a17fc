import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import type { ErasureService } from './erasure.service.ts';

/** Registers the erasure queue's handler: each run finishes what an earlier one left. */
export async function registerPrivacyJobs(deps: { jobs: JobQueue; erasure: ErasureService }) {
  const { jobs, erasure } = deps;
  await jobs.work<{ erasureId: string }>(QUEUES.erase, 1, async (job) => {
    try {
      return await erasure.run(job.data.erasureId);
    } catch (err) {
      if (job.retryCount >= job.retryLimit) await erasure.failed(job.data.erasureId, err);
      throw err;
    }
  });
}
