import { createHmac } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { ContactEntity, type Erasure, ErasureEntity } from '../../entities/index.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { AuditRecord, AuditService } from '../audit/audit.service.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { notificationInFlight } from '../pipeline/notify.step.ts';
import type { SearchEngine } from '../search/search-engine.ts';
import { isUuid } from '../shared/uuid.ts';
import type { ObjectStore } from '../storage/storage.ts';

export interface ErasureDeps {
  orm: MikroORM;
  store: ObjectStore;
  engine: SearchEngine;
  mailer: Mailer;
  jobs: JobQueue;
  metrics: Metrics;
  audit: AuditService;
  /** Keys the hash of an erased address in the audit event (see `emailHash`). */
  auditHashSecret: string;
  log: Logger;
}

export type ErasureReason = 'request' | 'retention';

/** Thrown while another run sends a contact's notification: the job retries once that is settled. */
class NotificationInFlight extends Error {}

/** Where a contact's objects live: every document key starts with it (see uploads.service). */
export const contactPrefix = (contactId: string) => `documents/${contactId.toLowerCase()}/`;

/** Who asked: a staff member's request, or the system itself (retention). */
export type Requester = Pick<AuditRecord, 'actor' | 'requestId'>;
export const RETENTION_ACTOR: Requester = { actor: 'system:retention' };

/**
 * What the audit keeps of an erased address: HMAC-SHA256 under a secret kept outside the database,
 * over the address trimmed and in lower case. Whoever holds the secret can tell whether an address
 * was erased; a reader of the audit table alone cannot test guesses.
 */
export const emailHash = (secret: string, email: string) =>
  createHmac('sha256', secret).update(email.trim().toLowerCase()).digest('hex');

export function createErasureService(deps: ErasureDeps) {
  const { orm, store, engine, mailer, jobs, metrics, audit, log } = deps;

  /** Records the erasure, its audit event and its job in one transaction. */
  async function start(
    em: EntityManager,
    contactIds: string[],
    by: Requester,
    reason: ErasureReason,
  ): Promise<Erasure> {
    const erasure = await em.transactional(async (tx) => {
      const e = tx.create(ErasureEntity, {
        contactIds,
        documentIds: [],
        actor: by.actor,
        reason,
        status: 'PENDING',
      });
      await tx.flush();
      const emails = await tx.getRepository(ContactEntity).normalizedEmails(contactIds);
      await audit.record(tx, {
        ...by,
        action: 'contact.erase',
        subjectType: 'Erasure',
        subjectId: e.id,
        details: {
          reason,
          contactIds: [...contactIds].sort(),
          emailHashes: emails.map((email) => emailHash(deps.auditHashSecret, email)),
        },
      });
      await jobs.enqueue(tx, QUEUES.erase, { erasureId: e.id });
      return e;
    });
    jobs.wake(QUEUES.erase);
    return erasure;
  }

  /** Runs a known erasure again: it failed, or its contacts were found again (a retried request). */
  async function resume(em: EntityManager, erasure: Erasure): Promise<Erasure> {
    if (erasure.status !== 'FAILED') return erasure;
    await em.transactional(async (tx) => {
      await tx.nativeUpdate(ErasureEntity, { id: erasure.id }, { status: 'PENDING', error: null });
      await jobs.enqueue(tx, QUEUES.erase, { erasureId: erasure.id });
    });
    jobs.wake(QUEUES.erase);
    return (await em.fork().findOne(ErasureEntity, { id: erasure.id }))!;
  }

  /** Deletes the rows and their jobs in one transaction; answers the ids of the documents deleted. */
  async function eraseRows(contactIds: string[]): Promise<string[]> {
    return orm.em.fork().transactional(async (tx) => {
      const contacts = tx.getRepository(ContactEntity);
      // The lock makes a concurrent claim of the notification wait for this transaction (and then find nothing).
      const locked = await contacts.lockForErasure(contactIds);
      if (locked.some((c) => notificationInFlight(c.claim))) {
        throw new NotificationInFlight('a notification about one of these contacts is being sent');
      }
      const documentIds = await contacts.deleteWithDocuments(contactIds);
      await jobs.forget(tx, { documentIds, contactIds });
      return documentIds;
    });
  }

  /**
   * The erasure job: rows (and their jobs) first, in one transaction, recording the document ids; then
   * each store, every step idempotent. A run that dies anywhere leaves the erasure PENDING and its job
   * retried: the next run finds no rows left and finishes the stores.
   */
  async function run(erasureId: string): Promise<'done' | 'skipped'> {
    const em = orm.em.fork();
    const erasure = await em.findOne(ErasureEntity, { id: erasureId });
    if (!erasure || erasure.status === 'DONE') return 'skipped';
    const { contactIds } = erasure;
    const erased = await eraseRows(contactIds);
    const documentIds = [...new Set([...erasure.documentIds, ...erased])];
    if (erased.length > 0) {
      await em.nativeUpdate(ErasureEntity, { id: erasureId }, { documentIds });
    }
    for (const contactId of contactIds) await store.removePrefix(contactPrefix(contactId));
    await engine.remove(documentIds);
    await mailer.forget(contactIds);
    // Again, outside the rows' transaction: a step in flight may have queued a job since.
    await jobs.forget(null, { documentIds, contactIds });
    await em.nativeUpdate(
      ErasureEntity,
      { id: erasureId },
      { status: 'DONE', completedAt: new Date(), error: null },
    );
    metrics.erasedContacts.inc({ reason: erasure.reason }, contactIds.length);
    log.info({ erasureId, contacts: contactIds.length, documents: documentIds.length }, 'erasure done');
    return 'done';
  }

  return {
    /** Erasure of one contact; asking again answers the same erasure (and restarts a failed one). */
    async eraseContact(em: EntityManager, id: string, by: Requester): Promise<Erasure> {
      if (!isUuid(id)) throw new AppError('NOT_FOUND', 'No such contact');
      const before = await em.getRepository(ErasureEntity).latestCovering([id.toLowerCase()]);
      const ids = await em.getRepository(ContactEntity).idsWhere({ ids: [id] });
      if (ids.length === 0) {
        if (before) return resume(em, before);
        throw new AppError('NOT_FOUND', 'No such contact');
      }
      if (before && before.status !== 'DONE') return resume(em, before);
      return start(em, ids, by, 'request');
    },

    /** Erasure of every contact with this address, compared without regard to case. */
    async eraseByEmail(em: EntityManager, email: string, by: Requester): Promise<Erasure> {
      const ids = await em.getRepository(ContactEntity).idsWhere({ email: email.trim() });
      if (ids.length === 0) throw new AppError('NOT_FOUND', 'No contact has this address');
      return start(em, ids, by, 'request');
    },

    /** Erasure of contacts chosen by the system (retention). */
    eraseMany: (em: EntityManager, contactIds: string[], by: Requester, reason: ErasureReason) =>
      start(em, contactIds, by, reason),

    byId: (em: EntityManager, id: string): Promise<Erasure | null> =>
      isUuid(id) ? em.findOne(ErasureEntity, { id }) : Promise.resolve(null),

    run,

    /** The last try failed: the erasure says so (staff may ask again, which resumes it). */
    async failed(erasureId: string, err: unknown): Promise<void> {
      const message =
        err instanceof NotificationInFlight || err instanceof AppError
          ? err.message
          : 'the erasure failed; see the logs';
      await orm.em
        .fork()
        .nativeUpdate(
          ErasureEntity,
          { id: erasureId, status: 'PENDING' },
          { status: 'FAILED', error: message },
        );
      metrics.erasuresFailed.inc();
    },
  };
}

export type ErasureService = ReturnType<typeof createErasureService>;
