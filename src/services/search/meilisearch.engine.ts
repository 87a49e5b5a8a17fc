import { randomBytes } from 'node:crypto';
import escapeHtml from 'escape-html';
import {
  type EnqueuedTaskPromise,
  Meilisearch,
  MeilisearchApiError,
  MeilisearchRequestError,
  MeilisearchTaskTimeOutError,
  type SearchParams,
} from 'meilisearch';
import { UnavailableError } from '../../errors.ts';
import {
  filterDateMs,
  type SearchDocument,
  type SearchEngine,
  type SearchFilter,
  type SearchHighlight,
  type SearchQuery,
} from './search-engine.ts';

export interface MeilisearchEngineOptions {
  url: string;
  apiKey?: string;
  /** Index uid; `documents` by default. */
  index?: string;
  /** Per-request time limit; 10 s by default. */
  requestTimeoutMs?: number;
  /** How long index(), remove() and ensureSettings() wait for their task; 60 s by default. */
  taskTimeoutMs?: number;
  /** Documents per GET /documents page in inventory(); 1000 by default. */
  inventoryPageSize?: number;
}

/** The shape stored in Meilisearch: dates as epoch ms so they can be compared in filters. */
type MeiliDocument = Omit<SearchDocument, 'createdAt'> & { createdAt: number };

const settings = {
  searchableAttributes: ['filename', 'text', 'keywords', 'contactName'],
  filterableAttributes: ['documentType', 'contactId', 'status', 'language', 'createdAt'],
  sortableAttributes: ['createdAt'],
};
const cropLength = 30;
// Meilisearch's default payload limit is 100 MB; stay well under it per task.
const maxBatchBytes = 20 * 1024 * 1024;
const dependency = 'search engine';

/** A Meilisearch filter string literal: user input can never leave the quotes. */
export function quoteFilterValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Builds the filter expression; createdAfter is inclusive, createdBefore exclusive. */
export function buildFilter(filter: SearchFilter): string | undefined {
  const parts: string[] = [];
  for (const key of ['documentType', 'contactId', 'status', 'language'] as const) {
    const value = filter[key];
    if (value !== undefined) parts.push(`${key} = ${quoteFilterValue(value)}`);
  }
  if (filter.createdAfter) parts.push(`createdAt >= ${filterDateMs(filter.createdAfter, 'createdAfter')}`);
  if (filter.createdBefore) parts.push(`createdAt < ${filterDateMs(filter.createdBefore, 'createdBefore')}`);
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}

/**
 * Maps offset/limit onto page/hitsPerPage, the only mode where Meilisearch reports an exhaustive
 * `totalHits` (offset/limit only gives `estimatedTotalHits`). When offset is not a multiple of
 * limit, asks for the first offset+limit hits and drops the first `offset` of them.
 */
export function pageFor(offset: number, limit: number): { page: number; hitsPerPage: number; skip: number } {
  if (limit === 0) return { page: 1, hitsPerPage: 0, skip: 0 };
  if (offset % limit === 0) return { page: offset / limit + 1, hitsPerPage: limit, skip: 0 };
  return { page: 1, hitsPerPage: offset + limit, skip: offset };
}

function toMeili(doc: SearchDocument): MeiliDocument {
  return {
    id: doc.id,
    filename: doc.filename,
    text: doc.text,
    keywords: doc.keywords,
    contactId: doc.contactId,
    contactName: doc.contactName,
    documentType: doc.documentType,
    status: doc.status,
    language: doc.language,
    createdAt: doc.createdAt.getTime(),
    version: doc.version,
  };
}

/** Splits documents into add-documents payloads of bounded JSON size. */
function batches(docs: MeiliDocument[]): MeiliDocument[][] {
  const out: MeiliDocument[][] = [];
  let current: MeiliDocument[] = [];
  let bytes = 0;
  for (const doc of docs) {
    const size = Buffer.byteLength(JSON.stringify(doc));
    if (current.length > 0 && bytes + size > maxBatchBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(doc);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Unreachable, timed out, 5xx/429, or a non-Meilisearch answer (a proxy's HTML page): UnavailableError. */
function mapError(error: unknown): Error {
  if (error instanceof UnavailableError) return error;
  if (error instanceof MeilisearchRequestError || error instanceof MeilisearchTaskTimeOutError) {
    return new UnavailableError(dependency, error);
  }
  if (error instanceof MeilisearchApiError) {
    const status = error.response.status;
    if (status >= 500 || status === 429) return new UnavailableError(dependency, error);
    return new Error(`Meilisearch rejected the request (HTTP ${status}): ${error.message}`, { cause: error });
  }
  // The client JSON-parses every body outside its own try: a non-JSON answer surfaces as SyntaxError.
  if (error instanceof SyntaxError) return new UnavailableError(dependency, error);
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A SearchEngine over Meilisearch. Highlights use per-process random marker tags so that the
 * snippet can be HTML-escaped before the markers become `<em>`/`</em>`: nothing from a document
 * can ever produce markup.
 */
export function createMeilisearchEngine(opts: MeilisearchEngineOptions): SearchEngine {
  const client = new Meilisearch({
    host: opts.url,
    apiKey: opts.apiKey,
    timeout: opts.requestTimeoutMs ?? 10_000,
  });
  const index = client.index<MeiliDocument>(opts.index ?? 'documents');
  const taskTimeout = opts.taskTimeoutMs ?? 60_000;
  const pageSize = opts.inventoryPageSize ?? 1000;
  const nonce = randomBytes(12).toString('hex');
  const pre = `__hl_${nonce}_open__`;
  const post = `__hl_${nonce}_close__`;

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw mapError(error);
    }
  };

  /** Enqueues, then polls the task until it is done; a failed task throws with Meilisearch's reason. */
  const runTask = async (enqueue: () => EnqueuedTaskPromise, allowCodes: string[] = []) => {
    const task = await call(() => enqueue().waitTask({ timeout: taskTimeout }));
    if (task.status === 'succeeded' || (task.error && allowCodes.includes(task.error.code))) return;
    const reason = task.error ? `${task.error.code}: ${task.error.message}` : task.status;
    const error = new Error(`Meilisearch task ${task.uid} (${task.type}) ${task.status}: ${reason}`);
    if (task.error?.type === 'internal' || task.error?.type === 'system')
      throw new UnavailableError(dependency, error);
    throw error;
  };

  const snippet = (formatted: string) =>
    escapeHtml(formatted).split(pre).join('<em>').split(post).join('</em>');

  return {
    kind: 'meilisearch',

    async ensureSettings() {
      await runTask(() => client.createIndex(index.uid, { primaryKey: 'id' }), ['index_already_exists']);
      await runTask(() => index.updateSettings(settings));
    },

    async index(docs) {
      for (const batch of batches(docs.map(toMeili))) {
        await runTask(() => index.addDocuments(batch, { primaryKey: 'id' }));
      }
    },

    async remove(ids) {
      if (ids.length === 0) return;
      await runTask(() => index.deleteDocuments(ids));
    },

    async search(query: SearchQuery) {
      const { page, hitsPerPage, skip } = pageFor(query.offset, query.limit);
      const params = {
        filter: buildFilter(query.filter),
        page,
        hitsPerPage,
        attributesToRetrieve: ['id'],
        attributesToHighlight: ['filename', 'text'],
        attributesToCrop: ['text'],
        cropLength,
        highlightPreTag: pre,
        highlightPostTag: post,
        showRankingScore: true,
        // Newest first among equally relevant hits, and for a query without words.
        sort: ['createdAt:desc'],
      } satisfies SearchParams;
      const res = await call(() => index.search(query.query, params));
      return {
        hits: res.hits.slice(skip).map((hit) => {
          const highlights: SearchHighlight[] = [];
          for (const field of ['text', 'filename'] as const) {
            const value = hit._formatted?.[field];
            if (typeof value === 'string' && value.includes(pre))
              highlights.push({ field, snippet: snippet(value) });
          }
          return { id: String(hit.id), score: hit._rankingScore ?? null, highlights };
        }),
        totalHits: res.totalHits,
        processingTimeMs: res.processingTimeMs,
      };
    },

    async inventory() {
      const out = new Map<string, number>();
      for (let offset = 0; ; offset += pageSize) {
        const res = await call(() =>
          index.getDocuments({ fields: ['id', 'version'], limit: pageSize, offset }),
        );
        for (const doc of res.results) out.set(String(doc.id), Number(doc.version));
        if (res.results.length < pageSize || offset + pageSize >= res.total) return out;
      }
    },

    async health() {
      const res = await call(() => client.health());
      if (res.status !== 'available')
        throw new UnavailableError(dependency, new Error(`status ${res.status}`));
    },
  };
}
