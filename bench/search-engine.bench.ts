// PostgreSQL search engine: bulk indexing speed and search latency on a synthetic English corpus.
// Run: BENCH_DOCS=100000 npx node bench/search-engine.bench.ts   (a fresh embedded PostgreSQL in a temp dir)
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '../src/logger.ts';
import { startEmbeddedPostgres } from '../src/services/db/embedded-postgres.ts';
import { initORM } from '../src/services/db/orm.ts';
import { createPostgresEngine } from '../src/services/search/postgres.engine.ts';
import type { SearchFilter } from '../src/services/search/search-engine.ts';
import { makeDoc, queryWord, randomFilter, typoQuery } from './search-corpus.ts';

const DOCS = Number(process.env.BENCH_DOCS ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const BATCH = 1000;

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const dir = await mkdtemp(join(tmpdir(), 'dossier-search-bench-'));
await chmod(dir, 0o755); // PostgreSQL runs as its own user when we are root
const db = await startEmbeddedPostgres(dir, null, createLogger('warn'));
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
pool.on('error', () => undefined); // an idle connection may see the server stop first
try {
  const orm = await initORM(db.url);
  await orm.close();
  const engine = createPostgresEngine(pool);
  await engine.ensureSettings();

  let indexMs = 0;
  let totalWords = 0;
  for (let done = 0; done < DOCS; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, DOCS - done) }, makeDoc);
    for (const d of batch) totalWords += d.text.split(' ').length;
    const t0 = performance.now();
    await engine.index(batch);
    indexMs += performance.now() - t0;
    if ((done / BATCH) % 20 === 0) process.stdout.write(`\rindexed ${done + batch.length}/${DOCS}`);
  }
  console.log(`\rindexed ${DOCS} documents (${Math.round(totalWords / DOCS)} words each on average)`);
  console.log(
    `bulk indexing: ${(DOCS / (indexMs / 1000)).toFixed(0)} documents/s (${(indexMs / 1000).toFixed(1)} s in index())`,
  );
  const t0 = performance.now();
  await pool.query('vacuum analyze search_documents');
  await pool.query('vacuum analyze search_words');
  console.log(`vacuum analyze: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const sizes = await pool.query<{ name: string; size: string }>(
    `select relname as name, pg_size_pretty(pg_total_relation_size(oid)) as size from pg_class where relname in ('search_documents', 'search_words', 'search_documents_tsv_index', 'search_words_trgm_index')`,
  );
  console.log(sizes.rows.map((r) => `${r.name} ${r.size}`).join(', '));

  const kinds: [string, () => { query: string; filter: SearchFilter }][] = [
    ['one word', () => ({ query: queryWord(), filter: {} })],
    ['two words', () => ({ query: `${queryWord()} ${queryWord()}`, filter: {} })],
    ['typo', () => ({ query: typoQuery(), filter: {} })],
    ['filtered', () => ({ query: queryWord(), filter: randomFilter() })],
  ];
  for (let i = 0; i < 30; i++)
    await engine.search({ ...kinds[i % kinds.length]![1](), limit: 10, offset: 0 });
  console.log('\nkind        p50 ms  p95 ms  p99 ms  max ms  mean hits  mean totalHits');
  for (const [name, make] of kinds) {
    const times: number[] = [];
    let hits = 0;
    let total = 0;
    for (let i = 0; i < QUERIES; i++) {
      const q = make();
      const start = performance.now();
      const res = await engine.search({ ...q, limit: 10, offset: 0 });
      times.push(performance.now() - start);
      hits += res.hits.length;
      total += res.totalHits;
    }
    times.sort((a, b) => a - b);
    const f = (x: number) => x.toFixed(1).padStart(6);
    console.log(
      `${name.padEnd(10)} ${f(pct(times, 50))}  ${f(pct(times, 95))}  ${f(pct(times, 99))}  ${f(times.at(-1)!)}  ${(hits / QUERIES).toFixed(1).padStart(9)}  ${(total / QUERIES).toFixed(0).padStart(14)}`,
    );
  }
} finally {
  await pool.end();
  await db.stop();
  await rm(dir, { recursive: true, force: true });
}
