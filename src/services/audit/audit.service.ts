import type { EntityManager } from '@mikro-orm/postgresql';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { DenialReason, Viewer } from '../../context.ts';
import { type AuditEvent, AuditEventEntity } from '../../entities/index.ts';
import type { Logger } from '../../logger.ts';
import type { Orm } from '../db/orm.ts';
import type { Metrics } from '../metrics/metrics.ts';

export const AUDIT_ACTIONS = [
  'contact.update',
  'contact.note',
  'contact.erase',
  'contact.export',
  'document.upload',
  'document.download',
  'document.reprocess',
  'token.create',
  'token.revoke',
  'auth.denied',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One audit event. `details` holds ids, field names and reasons only: never personal data. */
export interface AuditRecord {
  actor: string;
  action: AuditAction;
  subjectType?: string | null;
  subjectId?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown> | null;
}

export interface AuditFilter {
  actor?: string | null;
  action?: string | null;
  subjectId?: string | null;
}

/** A keyset page: events with ids below `after` / above `before`, newest first unless `inverted`. */
export interface AuditPage {
  after?: string | null;
  before?: string | null;
  limit: number;
  inverted: boolean;
}

/** Denied attempts written to the log per client address and minute; past that only the metric counts. */
const DENIALS_LOGGED_PER_MINUTE = 30;

export function createAuditService(deps: { orm: Orm; metrics: Metrics; log: Logger }) {
  const { orm, metrics, log } = deps;
  const deniedBudget = new RateLimiterMemory({
    keyPrefix: 'audit-denied',
    points: DENIALS_LOGGED_PER_MINUTE,
    duration: 60,
  });

  const where = (f: AuditFilter, page?: AuditPage) => {
    const id: Record<string, string> = {};
    if (page?.after) id.$lt = page.after;
    if (page?.before) id.$gt = page.before;
    return {
      ...(f.actor ? { actor: f.actor } : {}),
      ...(f.action ? { action: f.action } : {}),
      ...(f.subjectId ? { subjectId: f.subjectId } : {}),
      ...(Object.keys(id).length ? { id } : {}),
    };
  };

  /**
   * Appends an event inside the caller's transaction: pass the transaction's EntityManager
   * (`em.transactional(async (tx) => { …; await audit.record(tx, …) })`), so the event commits or
   * rolls back with the change it records.
   */
  async function record(em: EntityManager, e: AuditRecord): Promise<void> {
    await em.insert(AuditEventEntity, {
      at: new Date(),
      actor: e.actor,
      action: e.action,
      subjectType: e.subjectType ?? null,
      subjectId: e.subjectId ?? null,
      requestId: e.requestId ?? null,
      details: e.details ?? null,
    });
  }

  return {
    record,

    /**
     * A refused attempt: counted by reason; written to the log (on its own: there is no change to
     * join) when a credential was presented, within a per-address budget so a flood cannot fill it.
     */
    denied(a: { viewer: Viewer; reason: DenialReason; requestId: string; clientIp: string; field: string }) {
      metrics.authDenials.inc({ reason: a.reason });
      if (a.reason === 'missing') return;
      deniedBudget
        .consume(a.clientIp)
        .then(() =>
          record(orm.em.fork(), {
            actor: a.viewer.actor,
            action: 'auth.denied',
            requestId: a.requestId,
            details: { reason: a.reason, field: a.field, kind: a.viewer.kind },
          }),
        )
        .catch((err: unknown) => {
          // A spent budget rejects with a plain result object; only real failures are logged.
          if (err instanceof Error) log.error({ err }, 'could not write a denied attempt to the audit log');
        });
    },

    /** Events matching the filter, newest first (oldest first when `inverted`). */
    list: (em: EntityManager, f: AuditFilter, page: AuditPage): Promise<AuditEvent[]> =>
      em.find(AuditEventEntity, where(f, page), {
        orderBy: { id: page.inverted ? 'asc' : 'desc' },
        limit: page.limit,
      }),

    count: (em: EntityManager, f: AuditFilter): Promise<number> => em.count(AuditEventEntity, where(f)),
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
