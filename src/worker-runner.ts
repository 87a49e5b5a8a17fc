import type { Services } from './services/index.ts';

export interface Workers {
  stop(): Promise<void>;
}

/** Registers the job handlers of this process; the queue itself lives in PostgreSQL. */
export async function startWorkers(services: Services, concurrency: number): Promise<Workers> {
  await services.pipeline.register(concurrency);
  return {
    stop: async () => {
      await services.jobs.stop();
    },
  };
}
