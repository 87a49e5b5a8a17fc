import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { ContactEntity, DocumentEntity } from '../../entities/index.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { type NotifyJob, QUEUES } from '../jobs/queues.ts';

export interface IntakeRows {
  contact: Record<string, unknown> & { id: string };
  documents: (Record<string, unknown> & { id: string })[];
}

const MAX_BATCH = 100;
/** Transactions of intake in flight at once; submissions arriving meanwhile queue for the next one. */
export const MAX_IN_FLIGHT = 4;

async function writeRows(tx: EntityManager, jobs: JobQueue, items: IntakeRows[]) {
  await tx.insertMany(ContactEntity, items.map((i) => i.contact) as never[]);
  const documents = items.flatMap((i) => i.documents);
  if (documents.length) await tx.insertMany(DocumentEntity, documents as never[]);
  // One notification job for the whole batch: its step handles each contact on its own.
  const notify: NotifyJob = { contactIds: items.map((i) => i.contact.id) };
  await jobs.enqueueMany(tx, [
    ...documents.map((d) => ({ queue: QUEUES.extract, data: { documentId: d.id } })),
    { queue: QUEUES.notify, data: notify },
  ]);
}

/**
 * Group commit for intake: submissions that arrive together share one transaction (multi-row
 * inserts, one job statement, one notification job), which costs PostgreSQL a fraction of one
 * transaction each. Each submission still gets its own outcome: when a batch fails, its members are
 * written one by one.
 */
export function createIntakeWriter(orm: MikroORM, jobs: JobQueue) {
  const pending: { rows: IntakeRows; done: (err?: unknown) => void }[] = [];
  let inFlight = 0;

  /** Once per committed transaction, not per submission: each wake costs an abort in pg-boss. */
  function wakeWorkers(rows: IntakeRows[]) {
    jobs.wake(QUEUES.notify);
    if (rows.some((r) => r.documents.length > 0)) jobs.wake(QUEUES.extract);
  }

  async function flush() {
    const batch = pending.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    inFlight++;
    try {
      await orm.em.fork().transactional((tx) =>
        writeRows(
          tx,
          jobs,
          batch.map((b) => b.rows),
        ),
      );
      wakeWorkers(batch.map((b) => b.rows));
      for (const b of batch) b.done();
    } catch (err) {
      if (batch.length === 1) batch[0]!.done(err);
      else
        await Promise.all(
          batch.map((b) =>
            orm.em
              .fork()
              .transactional((tx) => writeRows(tx, jobs, [b.rows]))
              .then(() => {
                wakeWorkers([b.rows]);
                b.done();
              }, b.done),
          ),
        );
    } finally {
      inFlight--;
      if (pending.length && inFlight < MAX_IN_FLIGHT) void flush();
    }
  }

  return {
    /**
     * Resolves once the rows and their jobs are committed (and this process's idle workers told);
     * rejects with that submission's own error.
     */
    write(rows: IntakeRows): Promise<void> {
      return new Promise<void>((ok, fail) => {
        pending.push({ rows, done: (err) => (err ? fail(err) : ok()) });
        if (inFlight < MAX_IN_FLIGHT) setImmediate(() => void flush());
      });
    },
  };
}

export type IntakeWriter = ReturnType<typeof createIntakeWriter>;
