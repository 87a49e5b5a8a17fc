import type { MikroORM } from '@mikro-orm/postgresql';
import { DocumentEntity } from '../../entities/index.ts';
import { loadSearchDocuments } from '../search/search.service.ts';
import type { SearchEngine } from '../search/search-engine.ts';
import type { StepOutcome } from './extract.step.ts';

/**
 * Index step: reload by id; a completed document goes into the search engine, any other comes out
 * (a failed one was never there; one no longer complete must not be found); `indexedAt` follows.
 * Safe to re-run.
 */
export async function indexStep(
  deps: { orm: MikroORM; search: { engine: SearchEngine } },
  documentId: string,
): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const [doc] = await loadSearchDocuments(em, [documentId]);
  if (!doc) {
    await deps.search.engine.remove([documentId]);
    await em.getRepository(DocumentEntity).markIndexed([], [documentId]);
    return 'skipped';
  }
  await deps.search.engine.index([doc]);
  // Erased while it was being indexed: the erasure's own removal may have come first.
  if (!(await deps.orm.em.fork().count(DocumentEntity, { id: documentId }))) {
    await deps.search.engine.remove([documentId]);
    return 'skipped';
  }
  await em.getRepository(DocumentEntity).markIndexed([doc]);
  return 'done';
}
