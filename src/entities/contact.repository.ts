import { EntityRepository, type QueryBuilder } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import type { Contact, ContactStatus } from './contact.entity.ts';
import { keysetList } from './keyset.ts';

export interface ContactFilter {
  status?: ContactStatus[] | null;
  /** Contacts carrying all of them. */
  tags?: string[] | null;
  service?: string | null;
  source?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  hasDocuments?: boolean | null;
  /** Case-insensitive substring of name, email, company or message; at least 3 characters (one trigram). */
  search?: string | null;
}

/** The expression of the trigram index `contacts_search_trgm_index` (migration 20261203090000), verbatim. */
const SEARCH_TEXT = `(c."name" || ' ' || c."email" || ' ' || coalesce(c."company", '') || ' ' || c."message")`;

const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

/** The contact aggregate's queries beyond a plain find: the inbox, retention, erasure, the notification claim. */
export class ContactRepository extends EntityRepository<Contact> {
  /** The staff inbox: filtered contacts a keyset page at a time, and how many match. */
  readonly inbox = keysetList<Contact, ContactFilter>('c', (f) => this.filtered(f));

  private filtered(f: ContactFilter): QueryBuilder<Contact, 'c'> {
    const qb = this.createQueryBuilder('c');
    if (f.status?.length) qb.andWhere({ status: { $in: f.status } });
    if (f.tags?.length) qb.andWhere({ tags: { $contains: f.tags } });
    if (f.service != null) qb.andWhere({ service: f.service });
    if (f.source != null) qb.andWhere({ source: f.source });
    if (f.createdAfter) qb.andWhere({ createdAt: { $gte: f.createdAfter } });
    if (f.createdBefore) qb.andWhere({ createdAt: { $lt: f.createdBefore } });
    if (f.hasDocuments != null) {
      qb.andWhere(
        `${f.hasDocuments ? '' : 'not '}exists (select 1 from documents d where d.contact_id = c.id)`,
      );
    }
    if (f.search) qb.andWhere(`${SEARCH_TEXT} ilike ?`, [likePattern(f.search)]);
    return qb;
  }

  /** Ids of the contacts that still exist among `ids`, or with this address (any case). */
  async idsWhere(where: { ids: string[] } | { email: string }): Promise<string[]> {
    const query =
      'ids' in where
        ? sql<{ id: string }>`select id from contacts where id = any(${where.ids}::uuid[]) order by id`
        : sql<{ id: string }>`select id from contacts where lower(email) = lower(${where.email}) order by id`;
    return (await query.execute(this.em.getKysely())).rows.map((r) => r.id);
  }

  /** The distinct addresses of these contacts, trimmed and in lower case, sorted. */
  async normalizedEmails(ids: string[]): Promise<string[]> {
    const { rows } = await sql<{ email: string }>`
      select distinct lower(trim(email)) as email from contacts
       where id = any(${ids}::uuid[]) order by 1`.execute(this.em.getKysely());
    return rows.map((r) => r.email);
  }

  /**
   * Retention's next batch: SPAM created before `spamBefore`, ARCHIVED or SPAM created before
   * `allBefore` (a null date matches nothing), oldest first, leaving out contacts a pending erasure holds.
   */
  async dueForRetention(due: { spamBefore: Date | null; allBefore: Date | null; limit: number }) {
    const { rows } = await sql<{ id: string }>`
      select c.id from contacts c
       where ((c.status = 'SPAM' and c.created_at < ${due.spamBefore}::timestamptz)
              or (c.status in ('ARCHIVED', 'SPAM') and c.created_at < ${due.allBefore}::timestamptz))
         and not exists (select 1 from erasures e where e.status = 'PENDING' and e.contact_ids ? c.id::text)
       order by c.created_at, c.id
       limit ${due.limit}`.execute(this.em.getKysely());
    return rows.map((r) => r.id);
  }

  /**
   * Locks these contacts' rows until the transaction ends (use the transaction's repository) and
   * answers each one's notification claim: a concurrent claim waits for the transaction, then finds nothing.
   */
  async lockForErasure(ids: string[]): Promise<{ id: string; claim: string | null }[]> {
    const { rows } = await sql<{ id: string; claim: string | null }>`
      select id, notification_message_id as claim from contacts
       where id = any(${ids}::uuid[]) order by id for update`.execute(this.em.getKysely());
    return rows;
  }

  /** Deletes these contacts and their documents' rows; answers the ids of the documents deleted. */
  async deleteWithDocuments(ids: string[]): Promise<string[]> {
    const db = this.em.getKysely();
    const { rows: documents } = await sql<{ id: string }>`
      delete from documents where contact_id = any(${ids}::uuid[]) returning id`.execute(db);
    await sql`delete from contacts where id = any(${ids}::uuid[])`.execute(db);
    return documents.map((d) => d.id);
  }

  /**
   * Claims contacts for sending their notification (attempts + 1, `marker` in the message-id column),
   * only those still PENDING with no claim: of two runs racing, exactly one claims each contact.
   * Answers the claimed ones' attempt numbers.
   */
  async claimNotifications(ids: string[], marker: string): Promise<Map<string, number>> {
    const { rows } = await sql<{ id: string; attempts: number }>`
      update contacts set notification_attempts = notification_attempts + 1,
             notification_message_id = ${marker}
       where id = any(${ids}::uuid[]) and notification_status = 'PENDING' and notification_message_id is null
   returning id, notification_attempts as attempts`.execute(this.em.getKysely());
    return new Map(rows.map((r) => [r.id, r.attempts]));
  }
}
