import type { EntityManager } from '@mikro-orm/postgresql';
import { type Document, DocumentEntity } from '../../entities/index.ts';

/** `a` arrived before `b`: by creation time, then by id, the order every list uses. */
const before = (a: Document, b: Document) =>
  a.createdAt < b.createdAt || (a.createdAt.getTime() === b.createdAt.getTime() && a.id < b.id);

/**
 * For each document, the earlier documents with the same bytes (sha256), oldest first: what a
 * duplicate duplicates. One query for the whole list, in any contact.
 */
export async function earlierDuplicates(em: EntityManager, docs: readonly Document[]): Promise<Document[][]> {
  const hashes = [...new Set(docs.map((d) => d.sha256))];
  if (hashes.length === 0) return [];
  const same = await em.find(
    DocumentEntity,
    { sha256: { $in: hashes } },
    { orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  const bySha = Map.groupBy(same, (d) => d.sha256);
  return docs.map((doc) => (bySha.get(doc.sha256) ?? []).filter((d) => before(d, doc)));
}
