// searchDocuments through GraphQL beside the PostgreSQL engine alone, on 100,000 synthetic documents.
// Run: npm run bench:search   (BENCH_DOCS=100000, BENCH_QUERIES=200 per kind)
import { createHash } from 'node:crypto';
import pg from 'pg';
import { initORM } from '../src/services/db/orm.ts';
import { createPostgresEngine } from '../src/services/search/postgres.engine.ts';
import type { SearchDocument, SearchFilter } from '../src/services/search/search-engine.ts';
import { contacts, makeDoc, queryWord, randomFilter, typoQuery } from './search-corpus.ts';
import {
  bench,
  fixed,
  postGraphQL,
  printTable,
  startDatabase,
  startServer,
  summarize,
  verdict,
} from './support.ts';

const DOCS = Number(process.env.BENCH_DOCS ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const BATCH = 1000;
const LIMIT = 10;

const SEARCH = /* GraphQL */ `
  query Search($query: String!, $filter: DocumentSearchFilter, $limit: Int) {
    searchDocuments(query: $query, filter: $filter, limit: $limit) {
      totalHits
      hits { score highlights { field snippet } document { id filename documentType status createdAt } }
    }
  }`;

// The rows the merge loads: one `documents` row per indexed document, with its extracted text and insights.
const INSERT_DOCUMENTS = `
  insert into documents (id, contact_id, filename, content_type, document_type, size, sha256, storage_key, status, "text", insights, created_at, processed_at)
  select id, contact_id, filename, 'application/pdf', document_type, size, sha256, storage_key, status, "text", insights, created_at,
         case when status = 'PENDING' then null else created_at + interval '1 minute' end
  from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::timestamptz[])
    as t(id, contact_id, filename, document_type, size, sha256, storage_key, status, "text", insights, created_at)`;

function documentRows(docs: SearchDocument[]) {
  const col = <T>(f: (d: SearchDocument) => T) => docs.map(f);
  return [
    col((d) => d.id),
    col((d) => d.contactId),
    col((d) => d.filename),
    col((d) => d.documentType),
    col((d) => Buffer.byteLength(d.text) * 4),
    col((d) => createHash('sha256').update(d.id).digest('hex')),
    col((d) => `documents/${d.contactId ?? 'unassigned'}/${d.id}/${d.filename}`),
    col((d) => d.status),
    col((d) => d.text),
    col((d) =>
      JSON.stringify({
        wordCount: d.text.split(' ').length,
        pageCount: 1,
        language: d.language,
        keywords: d.keywords,
      }),
    ),
    col((d) => d.createdAt),
  ];
}

// What the merge's em.find loads (every column but the lazy text).
const LOAD_DOCUMENTS = `
  select id, contact_id, filename, content_type, document_type, size, sha256, storage_key, status, error, insights,
         attempts, created_at, processed_at
  from documents where id = any($1::uuid[])`;

/** The GraphQL filter for an engine filter: the same fields, dates as ISO strings. */
const toGraphQL = (f: SearchFilter) =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));

await bench(async () => {
  console.log(
    `searchDocuments on ${DOCS} synthetic documents (~300 words each, Zipf English-like vocabulary), PostgreSQL engine; ` +
      `${QUERIES} queries per kind, limit ${LIMIT}, one at a time; engine alone (this process) and GraphQL (server child, WORKERS=0) ` +
      'on each query, in alternating order.',
  );
  const db = await startDatabase();
  const url = await db.create('search');
  await (await initORM(url)).close(true);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined); // idle clients see the database stop at the end
  try {
    const engine = createPostgresEngine(pool);
    await engine.ensureSettings();
    await pool.query(
      `insert into contacts (id, name, email, message, source, created_at)
       select id, name, 'contact@example.com', 'Bench contact', 'website', now() from unnest($1::uuid[], $2::text[]) as t(id, name)`,
      [contacts.map((c) => c.id), contacts.map((c) => c.name)],
    );

    let indexMs = 0;
    let rowsMs = 0;
    for (let done = 0; done < DOCS; done += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, DOCS - done) }, makeDoc);
      let t0 = performance.now();
      await pool.query(INSERT_DOCUMENTS, documentRows(batch));
      rowsMs += performance.now() - t0;
      t0 = performance.now();
      await engine.index(batch);
      indexMs += performance.now() - t0;
      if (process.stdout.isTTY && (done / BATCH) % 10 === 0)
        process.stdout.write(`\rindexed ${done + batch.length}/${DOCS}`);
    }
    const indexRate = DOCS / (indexMs / 1000);
    console.log(
      `\rbulk indexing (engine.index, batches of ${BATCH}): ${Math.round(indexRate)} documents/s ` +
        `(${fixed(indexMs / 1000)} s); documents rows by SQL: ${fixed(rowsMs / 1000)} s`,
    );
    for (const table of ['search_documents', 'search_words', 'documents'])
      await pool.query(`vacuum analyze ${table}`);

    const server = await startServer(url, { WORKERS: '0' });
    const kinds: [string, () => { query: string; filter: SearchFilter }][] = [
      ['one word', () => ({ query: queryWord(), filter: {} })],
      ['two words', () => ({ query: `${queryWord()} ${queryWord()}`, filter: {} })],
      ['typo', () => ({ query: typoQuery(), filter: {} })],
      ['filtered', () => ({ query: queryWord(), filter: randomFilter() })],
    ];
    const hitIds: string[][] = [];
    const viaEngine = async (q: { query: string; filter: SearchFilter }) => {
      const t0 = performance.now();
      const res = await engine.search({ ...q, limit: LIMIT, offset: 0 });
      hitIds.push(res.hits.map((h) => h.id));
      return { ms: performance.now() - t0, hits: res.hits.length };
    };
    const viaGraphQL = async (q: { query: string; filter: SearchFilter }) => {
      const { body, ms } = await postGraphQL<{ searchDocuments: { hits: unknown[] } }>(
        server.url,
        SEARCH,
        { query: q.query, filter: toGraphQL(q.filter), limit: LIMIT },
        { staff: true },
      );
      if (!body.data) throw new Error(`searchDocuments failed: ${JSON.stringify(body.errors)}`);
      return { ms, hits: body.data.searchDocuments.hits.length };
    };
    for (let i = 0; i < 40; i++) {
      const q = kinds[i % kinds.length]![1]();
      await viaEngine(q);
      await viaGraphQL(q);
    }

    const cpuBefore = server.cpuSeconds();
    const rows: (string | number)[][] = [];
    const allGraphQL: number[] = [];
    const allAdded: number[] = [];
    for (const [name, make] of kinds) {
      const engineMs: number[] = [];
      const graphqlMs: number[] = [];
      const added: number[] = [];
      let hits = 0;
      for (let i = 0; i < QUERIES; i++) {
        const q = make();
        // Alternating order: neither path always finds the other's pages freshly cached.
        const [e, g] =
          i % 2
            ? [await viaEngine(q), await viaGraphQL(q)]
            : await viaGraphQL(q).then(async (g) => [await viaEngine(q), g]);
        if (g.hits !== e.hits)
          throw new Error(`"${q.query}": GraphQL returned ${g.hits} hits, the engine ${e.hits}`);
        engineMs.push(e.ms);
        graphqlMs.push(g.ms);
        added.push(g.ms - e.ms);
        hits += e.hits;
      }
      const [e, g, a] = [summarize(engineMs), summarize(graphqlMs), summarize(added)];
      allGraphQL.push(...graphqlMs);
      allAdded.push(...added);
      rows.push([
        name,
        fixed(e.p50),
        fixed(e.p95),
        fixed(g.p50),
        fixed(g.p95),
        fixed(g.max),
        fixed(a.p50),
        fixed(a.p95),
        fixed(hits / QUERIES),
      ]);
    }
    // Where the added time goes: the HTTP + Yoga + auth floor, and the merge's documents query alone.
    const searchCpu = ((server.cpuSeconds() - cpuBefore) * 1000) / (QUERIES * kinds.length);
    const floor: number[] = [];
    const floorBefore = server.cpuSeconds();
    for (let i = 0; i < QUERIES; i++)
      floor.push((await postGraphQL(server.url, '{ __typename }', {}, { staff: true })).ms);
    const floorCpu = ((server.cpuSeconds() - floorBefore) * 1000) / QUERIES;
    const load: number[] = [];
    for (const ids of hitIds.slice(-QUERIES)) {
      const t0 = performance.now();
      await pool.query(LOAD_DOCUMENTS, [ids]);
      load.push(performance.now() - t0);
    }
    await server.stop();
    printTable(
      [
        'kind',
        'engine p50',
        'engine p95',
        'GraphQL p50',
        'GraphQL p95',
        'GraphQL max',
        'added p50',
        'added p95',
        'hits',
      ],
      rows,
    );
    console.log(
      '(ms; "added" = GraphQL minus engine on the same query: HTTP, Yoga, auth, the documents query and the merge)',
    );
    const [f, l, a0] = [summarize(floor), summarize(load), summarize(allAdded)];
    printTable(
      ['part of the added time', 'p50 ms', 'p95 ms', 'server CPU ms/req'],
      [
        [
          '{ __typename } with the staff token (HTTP, Yoga, auth)',
          fixed(f.p50, 2),
          fixed(f.p95, 2),
          fixed(floorCpu, 2),
        ],
        ['the documents query for 10 hit ids, alone', fixed(l.p50, 2), fixed(l.p95, 2), ''],
        ['the rest (ORM hydration, resolvers, serialisation)', fixed(a0.p50 - f.p50 - l.p50, 2), '', ''],
        ['(searchDocuments as a whole)', '', '', fixed(searchCpu, 2)],
      ],
    );
    const g = summarize(allGraphQL);
    const a = summarize(allAdded);
    const worstP95 = Math.max(...rows.map((r) => r[4] as number));
    console.log('\nTargets');
    printTable(
      ['target', 'measured', 'verdict'],
      [
        [
          'GraphQL p95 <= 20 ms at 100k documents (worst kind)',
          `${worstP95} ms (all kinds: ${fixed(g.p95)})`,
          verdict(worstP95 <= 20),
        ],
        [
          'GraphQL + merge add <= 3 ms over the engine (median)',
          `${fixed(a.p50)} ms (p95 ${fixed(a.p95)})`,
          verdict(a.p50 <= 3),
        ],
        ['bulk indexing >= 2,000 documents/s', Math.round(indexRate), verdict(indexRate >= 2000)],
      ],
    );
    if (DOCS !== 100_000) console.log(`(run with ${DOCS} documents, not 100,000)`);
  } finally {
    await pool.end();
  }
});
