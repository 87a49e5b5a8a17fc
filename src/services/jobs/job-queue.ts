import type { EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type Transaction } from 'kysely';
import PgBoss from 'pg-boss';
import type { Logger } from '../../logger.ts';

export interface QueueSpec {
  name: string;
  retryLimit: number;
  retryDelaySeconds: number;
  expireInSeconds: number;
  /** Where a job goes after its last failed try; its handler records the permanent failure. */
  deadLetter?: string;
  /**
   * How often an idle worker of this queue looks for work, when it should be less often than the
   * queue's setting (JOB_POLL_SECONDS). Jobs enqueued in this process wake its workers at once; polling
   * finds those of other processes, retries and scheduled jobs.
   */
  pollSeconds?: number;
}

export interface JobInfo<T> {
  id: string;
  data: T;
  retryCount: number;
  retryLimit: number;
}

export type JobHandler<T> = (job: JobInfo<T>) => Promise<unknown>;

export interface QueueStats {
  queue: string;
  depth: number;
  oldestAgeSeconds: number;
}

/** Durable jobs on the application's PostgreSQL (pg-boss); the only file that imports it. */
export interface JobQueue {
  /**
   * Creates the queues. `setPolicies: false` (a process that runs no jobs) leaves the retry and expiry
   * policies of existing queues to the processes that run them.
   */
  start(specs: QueueSpec[], opts?: { setPolicies?: boolean }): Promise<void>;
  /** Enqueues within `em`'s open transaction when there is one, so the job exists iff the rows do. */
  enqueue(
    em: EntityManager | null,
    queue: string,
    data: object,
    opts?: { singletonKey?: string; startAfterSeconds?: number },
  ): Promise<void>;
  /** Enqueues many jobs in one statement, within `em`'s open transaction when there is one. */
  enqueueMany(em: EntityManager | null, jobs: { queue: string; data: object }[]): Promise<void>;
  work<T>(queue: string, concurrency: number, handler: JobHandler<T>): Promise<void>;
  /**
   * Tells this process's idle workers of `queue` to fetch now (call after the enqueueing transaction
   * commits); ignored while the queue rests after a failed job.
   */
  wake(queue: string): void;
  schedule(queue: string, cron: string): Promise<void>;
  /**
   * Forgets these documents and contacts in the queue, within `em`'s open transaction when there is
   * one: deletes every job (queued, active, finished or archived) whose data names one of them, and
   * takes the contacts out of batch jobs that name others too.
   */
  forget(em: EntityManager | null, ids: { documentIds: string[]; contactIds: string[] }): Promise<void>;
  stats(queues: string[]): Promise<QueueStats[]>;
  stop(): Promise<void>;
}

export function createJobQueue(
  connectionString: string,
  log: Logger,
  opts: {
    maintenanceSeconds: number;
    /**
     * How often an idle worker looks for work unless its queue says less often, and how long a queue
     * rests after a failed job. Every poll is a query and a wake-up of the process: ten workers polling
     * every 0.5 s cost an idle server ~0.3 of a core (Node and PostgreSQL together) on 2 cores.
     */
    pollSeconds: number;
  },
): JobQueue {
  const boss = new PgBoss({
    connectionString,
    schema: 'pgboss',
    max: 4,
    // Maintenance is what retries a job whose process died (once its expiry has passed): keep it frequent.
    maintenanceIntervalSeconds: opts.maintenanceSeconds,
  });
  boss.on('error', (err) => log.error({ err }, 'job queue error'));
  let started = false;
  const workers = new Map<string, string[]>();
  const pollSeconds = new Map<string, number>();
  // A queue whose job just failed rests until then: wakes are ignored, its workers poll as usual.
  const restingUntil = new Map<string, number>();

  const txDb = (em: EntityManager | null) => {
    const trx = em?.getTransactionContext<Transaction<unknown>>();
    if (!trx) return undefined;
    return {
      executeSql: async (text: string, values: unknown[]) => {
        const res = await trx.executeQuery(CompiledQuery.raw(text, values));
        return { rows: res.rows as unknown[] };
      },
    };
  };

  return {
    async start(specs, { setPolicies = true } = {}) {
      await boss.start();
      started = true;
      for (const s of specs) {
        if (s.pollSeconds) pollSeconds.set(s.name, s.pollSeconds);
        const options = {
          name: s.name,
          retryLimit: s.retryLimit,
          retryDelay: s.retryDelaySeconds,
          retryBackoff: true,
          expireInSeconds: s.expireInSeconds,
          ...(s.deadLetter ? { deadLetter: s.deadLetter } : {}),
        };
        if (s.deadLetter && !(await boss.getQueue(s.deadLetter))) {
          await boss.createQueue(s.deadLetter, {
            name: s.deadLetter,
            retryLimit: 5,
            retryDelay: 5,
            retryBackoff: true,
          });
        }
        if (!(await boss.getQueue(s.name))) await boss.createQueue(s.name, options);
        else if (setPolicies) await boss.updateQueue(s.name, options);
      }
    },
    async enqueue(em, queue, data, opts = {}) {
      const db = txDb(em);
      await boss.send(queue, data, {
        ...(db ? { db } : {}),
        ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}),
        ...(opts.startAfterSeconds ? { startAfter: opts.startAfterSeconds } : {}),
      });
    },
    async enqueueMany(em, jobs) {
      if (jobs.length === 0) return;
      const db = txDb(em);
      await boss.insert(
        jobs.map((j) => ({ name: j.queue, data: j.data })),
        db ? { db } : {},
      );
    },
    async work<T>(queue: string, concurrency: number, handler: JobHandler<T>) {
      const ids = workers.get(queue) ?? [];
      workers.set(queue, ids);
      const interval = Math.max(opts.pollSeconds, pollSeconds.get(queue) ?? 0);
      for (let i = 0; i < concurrency; i++) {
        const id = await boss.work<T>(
          queue,
          { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: interval },
          async ([job]) => {
            if (!job) return;
            let output: unknown;
            try {
              output = await handler({
                id: job.id,
                data: job.data,
                retryCount: job.retryCount,
                retryLimit: job.retryLimit,
              });
            } catch (err) {
              // After a failure the queue rests for a polling interval, wakes included, so that an outage
              // (SES down, say) that fails every job costs one attempt per interval, not a tight loop.
              restingUntil.set(queue, Date.now() + interval * 1000);
              throw err;
            }
            // pg-boss would otherwise sleep out its polling interval after every job: go straight on.
            boss.notifyWorker(id);
            return output;
          },
        );
        ids.push(id);
      }
    },
    wake(queue) {
      if ((restingUntil.get(queue) ?? 0) > Date.now()) return;
      for (const id of workers.get(queue) ?? []) boss.notifyWorker(id);
    },
    async schedule(queue, cron) {
      await boss.schedule(queue, cron);
    },
    async forget(em, { documentIds, contactIds }) {
      const db = txDb(em) ?? boss.getDb();
      for (const table of ['pgboss.job', 'pgboss.archive']) {
        await db.executeSql(
          `delete from ${table} where data->>'documentId' = any($1::text[]) or data->>'contactId' = any($2::text[])`,
          [documentIds, contactIds],
        );
        await db.executeSql(
          `update ${table} set data = jsonb_set(data, '{contactIds}', coalesce((select jsonb_agg(c)
             from jsonb_array_elements_text(data->'contactIds') c where c <> all($1::text[])), '[]'::jsonb))
           where jsonb_typeof(data->'contactIds') = 'array' and data->'contactIds' ?| $1::text[]`,
          [contactIds],
        );
        await db.executeSql(`delete from ${table} where data->'contactIds' = '[]'::jsonb`, []);
      }
    },
    async stats(queues) {
      const db = boss.getDb();
      const { rows } = await db.executeSql(
        `select name, count(*)::int as depth,
                coalesce(extract(epoch from now() - min(greatest(created_on, start_after))), 0)::float as age
           from pgboss.job where name = any($1) and state in ('created', 'retry') and start_after <= now() group by name`,
        [queues],
      );
      const byName = new Map(
        (rows as { name: string; depth: number; age: number }[]).map((r) => [r.name, r]),
      );
      return queues.map((q) => ({
        queue: q,
        depth: byName.get(q)?.depth ?? 0,
        oldestAgeSeconds: byName.get(q)?.age ?? 0,
      }));
    },
    async stop() {
      if (started) await boss.stop({ graceful: true, timeout: 10_000, wait: true });
      started = false;
    },
  };
}
