import { EntityRepository, type QueryBuilder } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import { isUuid } from '../services/shared/uuid.ts';
import type { Document, DocumentStatus } from './document.entity.ts';
import { keysetList } from './keyset.ts';

export interface DocumentFilter {
  status?: DocumentStatus[] | null;
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

// The same order as earlierDuplicates: created earlier, or at the same instant with a smaller id.
const HAS_EARLIER_COPY = `exists (select 1 from "documents" e where e."sha256" = d."sha256"
  and (e."created_at", e."id") < (d."created_at", d."id"))`;

/** `a` arrived before `b`: by creation time, then by id, the order every list uses. */
const before = (a: Document, b: Document) =>
  a.createdAt < b.createdAt || (a.createdAt.getTime() === b.createdAt.getTime() && a.id < b.id);

/** The document aggregate's queries beyond a plain find: the staff list, duplicates, texts, the index's bookkeeping. */
export class DocumentRepository extends EntityRepository<Document> {
  /** Documents for staff: filtered, a keyset page at a time, and how many match. */
  readonly inbox = keysetList<Document, DocumentFilter>('d', (f) => this.filtered(f));

  private filtered(f: DocumentFilter): QueryBuilder<Document, 'd'> {
    const qb = this.createQueryBuilder('d');
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

  /**
   * For each document, the earlier documents with the same bytes (sha256), oldest first: what a
   * duplicate duplicates. One query for the whole list, in any contact.
   */
  async earlierDuplicates(docs: readonly Document[]): Promise<Document[][]> {
    const hashes = [...new Set(docs.map((d) => d.sha256))];
    if (hashes.length === 0) return [];
    const same = await this.find({ sha256: { $in: hashes } }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    const bySha = Map.groupBy(same, (d) => d.sha256);
    return docs.map((doc) => (bySha.get(doc.sha256) ?? []).filter((d) => before(d, doc)));
  }

  /** The extracted texts of many documents in one query, in the order of `ids`; null until COMPLETED. */
  async textsOf(ids: readonly string[]): Promise<(string | null)[]> {
    const rows: { id: string; text: string | null }[] = await this.createQueryBuilder('d')
      .select(['id', 'text'])
      .where({ id: { $in: ids.filter(isUuid) }, status: 'COMPLETED' })
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r.text]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Every completed document's id and version (processedAt in ms, as the engine holds it): what the engine should have. */
  async indexVersions(): Promise<Map<string, number>> {
    const { rows } = await sql<{ id: string; version: string }>`
      select id, coalesce((extract(epoch from processed_at) * 1000)::bigint, 0) as version
        from documents where status = 'COMPLETED'`.execute(this.em.getKysely());
    return new Map(rows.map((r) => [r.id, Number(r.version)]));
  }

  /** The ids of every completed document, in id order. */
  async completedIds(): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      select id from documents where status = 'COMPLETED' order by id`.execute(this.em.getKysely());
    return rows.map((r) => r.id);
  }

  /**
   * Records that the engine now holds these documents, each as of its `version` (processedAt): a
   * document reprocessed meanwhile keeps indexedAt null until its own index step. Gone: null.
   */
  async markIndexed(indexed: readonly { id: string; version: number }[], removed: readonly string[] = []) {
    if (indexed.length) {
      const values = sql.join(indexed.map((d) => sql`(${d.id}::uuid, ${d.version}::bigint)`));
      await sql`update documents d set indexed_at = now()
         from (values ${values}) v(id, version)
        where d.id = v.id and coalesce((extract(epoch from d.processed_at) * 1000)::bigint, 0) = v.version`.execute(
        this.em.getKysely(),
      );
    }
    if (removed.length) await this.nativeUpdate({ id: { $in: [...removed] } }, { indexedAt: null });
  }
}
