import type { EntityManager, QueryBuilder } from '@mikro-orm/postgresql';
import { type Document, DocumentEntity } from '../../entities/index.ts';
import type { DocumentStatusValue } from '../search/search-engine.ts';
import { keysetList } from '../shared/keyset.ts';
import { isUuid } from '../shared/uuid.ts';

export interface DocumentFilter {
  status?: DocumentStatusValue[] | null;
  documentType?: string | null;
  contentType?: string | null;
  language?: string | null;
  contactId?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  needsOcr?: boolean | null;
  /** An earlier document has the same bytes. */
  duplicate?: boolean | null;
}

// The same order as Document.duplicates: created earlier, or at the same instant with a smaller id.
const HAS_EARLIER_COPY = `exists (select 1 from "documents" e where e."sha256" = d."sha256"
  and (e."created_at", e."id") < (d."created_at", d."id"))`;

function filtered(em: EntityManager, f: DocumentFilter): QueryBuilder<Document, 'd'> {
  const qb = em.createQueryBuilder(DocumentEntity, 'd');
  if (f.status?.length) qb.andWhere({ status: { $in: f.status } });
  if (f.documentType != null) qb.andWhere({ documentType: f.documentType });
  if (f.contentType != null) qb.andWhere({ contentType: f.contentType });
  if (f.language != null) qb.andWhere(`d.insights->>'language' = ?`, [f.language]);
  // A malformed id matches nothing rather than failing the uuid cast.
  if (f.contactId != null) {
    if (isUuid(f.contactId)) qb.andWhere({ contact: f.contactId });
    else qb.andWhere('false');
  }
  if (f.createdAfter) qb.andWhere({ createdAt: { $gte: f.createdAfter } });
  if (f.createdBefore) qb.andWhere({ createdAt: { $lt: f.createdBefore } });
  if (f.needsOcr != null) {
    qb.andWhere(`coalesce((d.insights->>'needsOcr')::boolean, false) = ?`, [f.needsOcr]);
  }
  if (f.duplicate != null) qb.andWhere(f.duplicate ? HAS_EARLIER_COPY : `not ${HAS_EARLIER_COPY}`);
  return qb;
}

/** Documents for staff: filtered, a keyset page at a time, and how many match. */
export const documentInbox = keysetList<Document, DocumentFilter>('d', filtered);
