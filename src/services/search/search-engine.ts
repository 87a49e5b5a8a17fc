import type { DocumentStatus } from '../../entities/index.ts';
import { badInput } from '../../errors.ts';

/** What an engine indexes for one document. */
export interface SearchDocument {
  id: string;
  filename: string;
  text: string;
  keywords: string[];
  contactId: string | null;
  contactName: string | null;
  documentType: string | null;
  status: DocumentStatus;
  language: string | null;
  createdAt: Date;
  /** Version stamp: the document's processedAt in ms; used to find stale index entries. */
  version: number;
}

export interface SearchFilter {
  documentType?: string;
  contactId?: string;
  status?: DocumentStatus;
  language?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

/** A filter date in epoch ms; an invalid one is the client's error, named by its field. */
export function filterDateMs(d: Date, field: 'createdAfter' | 'createdBefore'): number {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw badInput('Invalid date', [{ path: ['filter', field], message: 'invalid' }]);
  return t;
}

export interface SearchQuery {
  query: string;
  filter: SearchFilter;
  limit: number;
  offset: number;
}

export interface SearchHighlight {
  field: string;
  /** Matched words wrapped in <em></em>; everything else HTML-escaped. */
  snippet: string;
}

export interface SearchHit {
  id: string;
  score: number | null;
  highlights: SearchHighlight[];
}

export interface SearchResult {
  hits: SearchHit[];
  totalHits: number;
  processingTimeMs: number;
}

/** A full-text engine. Implementations throw UnavailableError (src/errors.ts) when unreachable. */
export interface SearchEngine {
  readonly kind: 'postgres' | 'meilisearch';
  /** Creates the index and applies settings; resolves when they are in force. */
  ensureSettings(): Promise<void>;
  /** Adds or replaces documents by id; resolves once they are searchable. */
  index(docs: SearchDocument[]): Promise<void>;
  /** Removes documents by id; unknown ids are ignored. */
  remove(ids: string[]): Promise<void>;
  search(query: SearchQuery): Promise<SearchResult>;
  /** Every indexed id with its version, for drift checks. */
  inventory(): Promise<Map<string, number>>;
  health(): Promise<void>;
}
