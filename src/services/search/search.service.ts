import type { EntityManager } from '@mikro-orm/postgresql';
import { type Document, DocumentEntity } from '../../entities/index.ts';
import { badInput } from '../../errors.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { SearchDocument, SearchEngine, SearchFilter, SearchHighlight } from './search-engine.ts';

export interface SearchArgs {
  query: string;
  filter: SearchFilter;
  limit: number;
  offset: number;
}

export interface DocumentSearchResult {
  query: string;
  hits: { document: Document; score: number | null; highlights: SearchHighlight[] }[];
  totalHits: number;
  processingTimeMs: number;
}

export const MAX_OFFSET = 10_000;

function validate(args: SearchArgs) {
  const issues: { path: string[]; message: string }[] = [];
  if (!args.query.trim()) issues.push({ path: ['query'], message: 'must not be empty' });
  if (args.query.length > 1000) issues.push({ path: ['query'], message: 'must be at most 1000 characters' });
  if (!Number.isInteger(args.limit) || args.limit < 1 || args.limit > 100)
    issues.push({ path: ['limit'], message: 'must be between 1 and 100' });
  // Deep pages belong to cursor pagination; an offset scan this deep would only cost the database.
  if (!Number.isInteger(args.offset) || args.offset < 0 || args.offset > MAX_OFFSET)
    issues.push({ path: ['offset'], message: `must be between 0 and ${MAX_OFFSET}` });
  const { createdAfter, createdBefore } = args.filter;
  if (createdAfter && createdBefore && createdAfter > createdBefore) {
    issues.push({ path: ['filter', 'createdBefore'], message: 'must not be before createdAfter' });
  }
  if (issues.length) throw badInput('Invalid search', issues);
}

/** What the engine indexes for the given documents: the completed ones among them, in one query. */
export async function loadSearchDocuments(em: EntityManager, ids: string[]): Promise<SearchDocument[]> {
  if (ids.length === 0) return [];
  const docs = await em.find(
    DocumentEntity,
    { id: { $in: ids }, status: 'COMPLETED' },
    { populate: ['text', 'contact'] },
  );
  return docs.map((doc) => ({
    id: doc.id,
    filename: doc.filename,
    text: doc.text ?? '',
    keywords: doc.insights?.keywords ?? [],
    contactId: doc.contact?.id ?? null,
    contactName: doc.contact?.name ?? null,
    documentType: doc.documentType ?? null,
    status: doc.status,
    language: doc.insights?.language ?? null,
    createdAt: doc.createdAt,
    version: doc.processedAt?.getTime() ?? 0,
  }));
}

export function createSearchService(deps: { engine: SearchEngine; metrics: Metrics }) {
  const { engine, metrics } = deps;
  return {
    engine,
    async search(em: EntityManager, args: SearchArgs): Promise<DocumentSearchResult> {
      validate(args);
      const started = performance.now();
      const result = await engine.search({ ...args, query: args.query.trim() });
      metrics.searchDuration.observe({ engine: engine.kind }, (performance.now() - started) / 1000);
      if (result.totalHits === 0) metrics.searchZeroHits.inc();
      const ids = result.hits.map((h) => h.id);
      const found = ids.length ? await em.find(DocumentEntity, { id: { $in: ids } }) : [];
      const byId = new Map(found.map((d) => [d.id, d]));
      const hits = result.hits.flatMap((h) => {
        const document = byId.get(h.id);
        return document ? [{ document, score: h.score, highlights: h.highlights }] : [];
      });
      const stale = result.hits.length - hits.length;
      if (stale > 0) metrics.searchStaleHits.inc(stale);
      return {
        query: args.query,
        hits,
        totalHits: Math.max(0, result.totalHits - stale),
        processingTimeMs: Math.round(result.processingTimeMs),
      };
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
