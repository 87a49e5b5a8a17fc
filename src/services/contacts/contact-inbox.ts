import type { EntityManager, QueryBuilder } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { type Contact, ContactEntity, type ContactStatus } from '../../entities/index.ts';
import { keysetList } from '../shared/keyset.ts';

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

function filtered(em: EntityManager, f: ContactFilter): QueryBuilder<Contact, 'c'> {
  const qb = em.createQueryBuilder(ContactEntity, 'c');
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

/** The staff inbox: filtered contacts a keyset page at a time, and how many match. */
export const contactInbox = keysetList<Contact, ContactFilter>('c', filtered);

/** The search filter: one trigram at least, so the index always applies. */
export const searchSchema = z
  .string()
  .trim()
  .min(3, 'must be at least 3 characters')
  .max(200, 'must be at most 200 characters');
