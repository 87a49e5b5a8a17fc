import type { EntityManager } from '@mikro-orm/postgresql';
import { ContactEntity } from '../../entities/index.ts';
import type { Logger } from '../../logger.ts';
import type { Orm } from '../db/orm.ts';
import { type ErasureService, RETENTION_ACTOR } from './erasure.service.ts';

export interface RetentionPolicy {
  /** ARCHIVED and SPAM contacts older than this many days are erased; null keeps them. */
  retentionDays: number | null;
  /** SPAM contacts older than this many days are erased; null keeps them (up to `retentionDays`). */
  spamRetentionDays: number | null;
}

/** Contacts per erasure: one erasure job stays short, a large backlog becomes several. */
const BATCH = 500;
const DAY_MS = 86_400_000;

/**
 * Retention: erases the ARCHIVED and SPAM contacts past their age (counted from intake) through the
 * ordinary durable erasure, so what it removes and how it survives a crash are the same.
 */
export function createRetention(deps: {
  orm: Orm;
  erasure: ErasureService;
  policy: RetentionPolicy;
  clock: () => Date;
  log: Logger;
}) {
  const { orm, erasure, policy, clock, log } = deps;
  const cutoff = (days: number | null, now: Date) =>
    days === null ? null : new Date(now.getTime() - days * DAY_MS);

  /** The next batch due, leaving out contacts an erasure is already working on. */
  const due = (em: EntityManager, now: Date): Promise<string[]> =>
    em.getRepository(ContactEntity).dueForRetention({
      spamBefore: cutoff(policy.spamRetentionDays, now),
      allBefore: cutoff(policy.retentionDays, now),
      limit: BATCH,
    });

  return {
    policy,
    /** One sweep (the daily job): starts an erasure per batch of contacts due; answers how many. */
    async sweep(): Promise<{ contacts: number; erasures: string[] }> {
      const em = orm.em.fork();
      const now = clock();
      const erasures: string[] = [];
      let contacts = 0;
      for (let ids = await due(em, now); ids.length > 0; ids = await due(em, now)) {
        erasures.push((await erasure.eraseMany(em, ids, RETENTION_ACTOR, 'retention')).id);
        contacts += ids.length;
      }
      log.info({ contacts, erasures: erasures.length, ...policy }, 'retention sweep');
      return { contacts, erasures };
    },
  };
}

export type Retention = ReturnType<typeof createRetention>;
