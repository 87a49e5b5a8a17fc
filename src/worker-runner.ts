import type { Services } from './services/index.ts';
import { registerPrivacyJobs } from './services/privacy/privacy.jobs.ts';

export interface Workers {
  stop(): Promise<void>;
}

/** Registers the job handlers of this process; the queue itself lives in PostgreSQL. */
export async function startWorkers(services: Services, concurrency: number): Promise<Workers> {
  await services.pipeline.register(concurrency);
  await registerPrivacyJobs(services);
  return {
    stop: async () => {
      await services.jobs.stop();
    },
  };
}
