import type pg from 'pg';
import { UnavailableError } from '../../errors.ts';
import { isPostgresUnavailable } from '../shared/connection-errors.ts';
import { isUuid } from '../shared/uuid.ts';
import { indexWords, parseQuery, type QueryTerm, restore } from './postgres-query.ts';
import {
  ADD_WORDS,
  FACET_TOKEN,
  type FilterSql,
  filterSql,
  newestSql,
  Params,
  PERIOD_MS,
  PRUNE_WORDS,
  RECENT_PERIODS,
  rankedSql,
  SEARCH_SETTINGS,
  TERMS,
  type Terms,
  UPSERT,
  upsertParams,
} from './postgres-sql.ts';
import type {
  SearchDocument,
  SearchEngine,
  SearchHighlight,
  SearchHit,
  SearchQuery,
  SearchResult,
} from './search-engine.ts';

export interface PostgresEngineOptions {
  /**
   * Matches considered per query (the newest first, per tier of matched words) and so the most a
   * query can page through; totalHits is exact up to it, then capped at it. 1000 by default, like
   * Meilisearch's maxTotalHits.
   */
  maxHits?: number;
  /**
   * Per tier, matches read from the table at most; the newest maxHits of them are the tier's
   * candidates. The last three 30-day periods are read first: when they hold maxHits matches, those
   * are the newest. Otherwise the whole table is read, in table order (mostly insertion order),
   * which is exact for words in fewer than scanLimit documents (within the filter). 5000 by default.
   */
  scanLimit?: number;
  /** Per tier, how many of the newest candidates are ranked by relevance; 200 by default. */
  rankDepth?: number;
  /** Documents per INSERT statement; 500 by default. */
  batchSize?: number;
  /** INSERT statements in flight at once in index(); 2 by default. */
  concurrency?: number;
}

const dependency = 'search engine';
const MAX_BATCH_CHARS = 16_000_000;
const MAX_KNOWN_WORDS = 500_000;

function mapError(error: unknown): unknown {
  if (error instanceof UnavailableError) return error;
  return isPostgresUnavailable(error) ? new UnavailableError(dependency, error) : error;
}

type Run = (text: string, values?: unknown[]) => Promise<pg.QueryResult>;

/** Batches of at most `size` documents and about MAX_BATCH_CHARS characters of text. */
function* batches(docs: SearchDocument[], size: number): Generator<SearchDocument[]> {
  let current: SearchDocument[] = [];
  let chars = 0;
  for (const doc of docs) {
    if (current.length >= size || (current.length > 0 && chars + doc.text.length > MAX_BATCH_CHARS)) {
      yield current;
      current = [];
      chars = 0;
    }
    current.push(doc);
    chars += doc.text.length;
  }
  if (current.length > 0) yield current;
}

/**
 * The default SearchEngine, on PostgreSQL full-text search over its own tables (see the search
 * migration). Ranking follows Meilisearch's `last` matching strategy: a document must contain the
 * first term; documents containing the first k terms rank above those containing fewer; within a
 * tier ts_rank_cd (filename A, keywords and contact name B, text C) decides, then the newest.
 * The options bound the work a common word can cause; see PostgresEngineOptions.
 */
export function createPostgresEngine(pool: pg.Pool, options: PostgresEngineOptions = {}): SearchEngine {
  const maxHits = Math.max(1, Math.trunc(options.maxHits ?? 1000));
  const rankDepth = Math.max(1, Math.trunc(options.rankDepth ?? 200));
  const scanLimit = Math.max(maxHits, Math.trunc(options.scanLimit ?? 5_000));
  const batchSize = Math.max(1, Math.trunc(options.batchSize ?? 500));
  const concurrency = Math.max(1, Math.trunc(options.concurrency ?? 2));
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
    try {
      return await pool.query<R>(text, values);
    } catch (error) {
      throw mapError(error);
    }
  };

  /**
   * Words known to be in search_words, so that a batch sends only new ones. Words that a removal
   * prunes leave this process's set; another process may keep them until its set is cleared, and
   * then skips adding them again: only a typo correction towards that word is lost meanwhile.
   */
  const knownWords = new Set<string>();

  async function indexBatch(docs: SearchDocument[]) {
    const words = indexWords(
      [...docs.flatMap((d) => [d.filename, d.contactName ?? '', d.text, ...d.keywords])],
      new Set(),
    );
    const fresh = [...words].filter((w) => !knownWords.has(w)).sort();
    // Words first, in their own statement: a batch never holds document locks while waiting on words.
    if (fresh.length > 0) {
      await query(ADD_WORDS, [fresh]);
      if (knownWords.size + fresh.length > MAX_KNOWN_WORDS) knownWords.clear();
      for (const w of fresh) knownWords.add(w);
    }
    await query(UPSERT, upsertParams(docs));
  }

  /**
   * Deletes documents and, in the same transaction, the words only they contained: erased text must
   * not live on as a typo-correction candidate.
   */
  async function removeBatch(ids: string[]) {
    const client = await pool.connect().catch((error: unknown) => Promise.reject(mapError(error)));
    let broken: unknown;
    try {
      await client.query('begin');
      const { rows } = await client.query<{
        filename: string;
        text: string;
        keywords: string[];
        name: string | null;
      }>(
        `delete from search_documents where id = any($1::uuid[])
         returning filename, "text", keywords, contact_name as name`,
        [ids],
      );
      const words = indexWords(
        rows.flatMap((r) => [r.filename, r.name ?? '', r.text, ...r.keywords]),
        new Set(),
      );
      if (words.size > 0) await client.query(PRUNE_WORDS, [[...words].sort()]);
      await client.query('commit');
      for (const w of words) knownWords.delete(w);
    } catch (error) {
      broken = error;
      await client.query('rollback').catch(() => undefined);
      throw mapError(error);
    } finally {
      client.release(broken instanceof Error && isPostgresUnavailable(broken) ? broken : undefined);
    }
  }

  /** Runs `fn` in a transaction on one connection, with the planner settings searches need. */
  async function searching<T>(fn: (run: Run) => Promise<T>): Promise<T> {
    const client = await pool.connect().catch((error: unknown) => Promise.reject(mapError(error)));
    let lost: Error | undefined;
    const run: Run = async (text, values) => {
      try {
        return await client.query(text, values);
      } catch (error) {
        const mapped = mapError(error);
        if (mapped instanceof UnavailableError) lost = mapped;
        throw mapped;
      }
    };
    try {
      await run(SEARCH_SETTINGS);
      const result = await fn(run);
      await run('commit');
      return result;
    } catch (error) {
      if (!lost) await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release(lost);
    }
  }

  /** Each term's tsquery text after typo correction; terms without lexemes are dropped. */
  async function resolve(run: Run, terms: QueryTerm[], negated: QueryTerm[]): Promise<Terms> {
    const list = [...terms, ...negated];
    if (list.length === 0) return { positive: [], negative: [], recent: null };
    const { rows } = await run(TERMS, [list.map((t) => t.text), list.map((t) => t.correctable)]);
    const qs = rows.map((r) => String(r.q));
    // A timestamptz arrives as text on the ORM's pool (its type parsers) and as a Date on a plain one.
    const newest = rows[0]?.newest == null ? null : new Date(rows[0].newest).getTime();
    return {
      positive: qs.slice(0, terms.length).filter((q) => q !== ''),
      negative: qs.slice(terms.length).filter((q) => q !== ''),
      recent:
        newest === null
          ? null
          : Array.from(
              { length: RECENT_PERIODS },
              (_, i) => `${FACET_TOKEN.period}${Math.floor(newest / PERIOD_MS) - i}`,
            ).join(' | '),
    };
  }

  /** A query without words: the newest documents passing the filter (and not excluded). */
  async function listNewest(
    run: Run,
    filters: FilterSql,
    params: Params,
    negative: string[],
    offset: number,
    limit: number,
  ) {
    const sql = newestSql(filters, params, negative, offset, limit, maxHits);
    const { rows } = await run(sql, params.values);
    const hits: SearchHit[] = rows
      .filter((r) => r.id !== null)
      .map((r) => ({ id: String(r.id), score: null, highlights: [] }));
    return { hits, totalHits: Number(rows[0]?.total ?? 0) };
  }

  /** Ranked hits with highlights: see rankedSql. */
  async function ranked(
    run: Run,
    filters: FilterSql,
    params: Params,
    terms: Terms,
    offset: number,
    limit: number,
  ) {
    const sql = rankedSql(filters, params, terms, offset, limit, { maxHits, scanLimit, rankDepth });
    const { rows } = await run(sql, params.values);
    const hits: SearchHit[] = rows
      .filter((r) => r.id !== null)
      .map((r) => {
        const highlights: SearchHighlight[] = [];
        if (r.t_hl.includes('<em>'))
          highlights.push({ field: 'text', snippet: restore(r.t_hl, r.t_src).trim() });
        if (r.n_hl.includes('<em>'))
          highlights.push({ field: 'filename', snippet: restore(r.n_hl, r.n_src) });
        return { id: String(r.id), score: r.score === null ? null : Number(r.score), highlights };
      });
    return { hits, totalHits: Number(rows[0]?.total ?? 0) };
  }

  return {
    kind: 'postgres',

    async ensureSettings() {
      const { rows } = await query<{ ok: boolean }>(
        `select to_regclass('search_documents') is not null and to_regclass('search_words') is not null
           and exists (select 1 from pg_extension where extname = 'pg_trgm') as ok`,
      );
      if (!rows[0]?.ok) throw new Error('The search tables are missing: apply the database migrations');
    },

    async index(docs) {
      // The last copy of an id wins; sorted ids make concurrent writers lock rows in the same order.
      const unique = [...new Map(docs.map((d) => [d.id.toLowerCase(), d])).values()].sort((a, b) =>
        a.id < b.id ? -1 : 1,
      );
      const list = [...batches(unique, batchSize)];
      let next = 0;
      let failed = false;
      // A few batches in flight: PostgreSQL parses one while this process prepares the next.
      const worker = async () => {
        while (!failed && next < list.length) {
          const batch = list[next++]!;
          await indexBatch(batch).catch((error: unknown) => {
            failed = true;
            throw error;
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
    },

    async remove(ids) {
      const valid = ids.filter(isUuid);
      for (let i = 0; i < valid.length; i += 1_000) await removeBatch(valid.slice(i, i + 1_000));
    },

    async search(q: SearchQuery): Promise<SearchResult> {
      const started = performance.now();
      const params = new Params();
      const filters = filterSql(q.filter, params);
      // Interpolated below as literals: whole numbers only, and nothing can page past maxHits.
      const whole = (n: number) => (Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : 0);
      const offset = Math.min(whole(q.offset), maxHits);
      const limit = Math.min(whole(q.limit), maxHits - offset);
      const done = (r: { hits: SearchHit[]; totalHits: number }) => ({
        ...r,
        processingTimeMs: Math.round(performance.now() - started),
      });
      if (filters === null) return done({ hits: [], totalHits: 0 });
      const parsed = parseQuery(q.query);
      return done(
        await searching(async (run) => {
          const terms = await resolve(run, parsed.terms, parsed.negated);
          if (terms.positive.length === 0)
            return listNewest(run, filters, params, terms.negative, offset, limit);
          return ranked(run, filters, params, terms, offset, limit);
        }),
      );
    },

    async inventory() {
      const { rows } = await query<{ id: string; version: string }>(
        'select id::text as id, version::text as version from search_documents',
      );
      return new Map(rows.map((r) => [r.id, Number(r.version)]));
    },

    async health() {
      await query('select 1');
    },
  };
}
