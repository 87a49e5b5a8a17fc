// The staff inbox through GraphQL beside the same SQL alone, on 100,000 contacts loaded by SQL.
// Run: npm run bench:inbox   (BENCH_CONTACTS=100000, BENCH_QUERIES=200 per kind)
import pg from 'pg';
import type { ContactFilter } from '../src/entities/contact.repository.ts';
import { ContactEntity, DocumentEntity } from '../src/entities/index.ts';
import { encodeCursor, type KeysetPage } from '../src/entities/keyset.ts';
import { initORM } from '../src/services/db/orm.ts';
import { seedContacts } from '../test/support/seed.ts';
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

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const FIRST = 50;

const PAGE = /* GraphQL */ `
  query Inbox($filter: ContactFilter, $after: String) {
    contacts(first: ${FIRST}, filter: $filter, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { id name email status tags createdAt documents { id filename status } } }
    }
  }`;

interface Case {
  filter: ContactFilter;
  after: { createdAt: Date; id: string } | null;
}

await bench(async () => {
  console.log(
    `contacts(first: ${FIRST}) with documents { id filename status } on ${CONTACTS} contacts (a third with 1-3 documents); ` +
      `${QUERIES} queries per kind, one at a time, alternating GraphQL (server child, WORKERS=0) and the same SQL alone ` +
      '(the page query and the documents loader query, in this process over one pg connection).',
  );
  const db = await startDatabase();
  const url = await db.create('inbox');
  const orm = await initORM(url, 2);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t0 = performance.now();
    await seedContacts((sql, params) => client.query(sql, params as unknown[]), {
      count: CONTACTS,
      source: 'website',
      newest: new Date(),
    });
    await client.query('vacuum analyze contacts');
    await client.query('vacuum analyze documents');
    const { rows: counts } = await client.query<{ c: number; d: number }>(
      'select (select count(*) from contacts)::int as c, (select count(*) from documents)::int as d',
    );
    console.log(
      `loaded ${counts[0]!.c} contacts and ${counts[0]!.d} documents by SQL in ${fixed((performance.now() - t0) / 1000)} s`,
    );

    // The position after which page 1,000 starts, newest first (the last page, with fewer contacts).
    const deepPage = Math.max(2, Math.min(1000, Math.floor(CONTACTS / FIRST)));
    const { rows: deep } = await client.query<{ created_at: Date; id: string }>(
      'select created_at, id from contacts order by created_at desc, id desc offset $1 limit 1',
      [FIRST * (deepPage - 1) - 1],
    );
    const deepCursor = { createdAt: deep[0]!.created_at, id: deep[0]!.id };
    const oldest = (await client.query<{ t: Date }>('select min(created_at) as t from contacts')).rows[0]!.t;
    const middle = new Date((oldest.getTime() + Date.now()) / 2);
    const randomInt = (n: number) => Math.floor(Math.random() * n);

    const kinds: [string, () => Case][] = [
      ['page 1', () => ({ filter: {}, after: null })],
      [`page ${deepPage.toLocaleString('en')} (cursor)`, () => ({ filter: {}, after: deepCursor })],
      ['search', () => ({ filter: { search: `person${randomInt(CONTACTS)}@` }, after: null })],
      [
        'status+tags+date',
        () => ({
          filter: {
            status: ['NEW', 'OPEN'],
            tags: ['vip'],
            createdAfter: new Date(middle.getTime() - randomInt(3_600_000)),
          },
          after: null,
        }),
      ],
    ];

    const em = () => orm.em.fork();
    const inbox = () => em().getRepository(ContactEntity).inbox;
    const pageOf = (c: Case): KeysetPage => ({
      ...(c.after ? { after: c.after } : {}),
      limit: FIRST + 1,
      inverted: false,
      order: 'desc',
    });
    const viaSql = async (c: Case) => {
      const pageSql = inbox().sql(c.filter, pageOf(c));
      const start = performance.now();
      const { rows } = await client.query<{ id: string }>(pageSql);
      const ids = rows.slice(0, FIRST).map((r) => r.id);
      // What Contact.documents' loader runs (em.find with $in), its SQL built by the same ORM.
      const docsSql = em()
        .createQueryBuilder(DocumentEntity, 'd')
        .where({ contact: { $in: ids } })
        .orderBy([{ createdAt: 'asc' }, { id: 'asc' }])
        .getFormattedQuery();
      if (ids.length) await client.query(docsSql);
      return { ms: performance.now() - start, n: ids.length };
    };
    const viaGraphQL = async (c: Case) => {
      const filter = Object.fromEntries(
        Object.entries(c.filter).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
      );
      const { body, ms } = await postGraphQL<{ contacts: { edges: unknown[] } }>(
        server.url,
        PAGE,
        { filter, after: c.after ? encodeCursor(c.after) : null },
        { staff: true },
      );
      if (!body.data) throw new Error(`contacts failed: ${JSON.stringify(body.errors)}`);
      return { ms, n: body.data.contacts.edges.length };
    };

    const server = await startServer(url, { WORKERS: '0' });
    for (let i = 0; i < 40; i++) {
      const c = kinds[i % kinds.length]![1]();
      await viaSql(c);
      await viaGraphQL(c);
    }
    const rows: (string | number)[][] = [];
    let worstP95 = 0;
    let worstAdded = 0;
    for (const [name, make] of kinds) {
      const sqlMs: number[] = [];
      const gqlMs: number[] = [];
      const added: number[] = [];
      let found = 0;
      const cpuBefore = server.cpuSeconds();
      for (let i = 0; i < QUERIES; i++) {
        const c = make();
        const [s, g] =
          i % 2
            ? [await viaSql(c), await viaGraphQL(c)]
            : await viaGraphQL(c).then(async (g) => [await viaSql(c), g]);
        if (s.n !== g.n) throw new Error(`${name}: GraphQL returned ${g.n} contacts, SQL ${s.n}`);
        sqlMs.push(s.ms);
        gqlMs.push(g.ms);
        added.push(g.ms - s.ms);
        found += g.n;
      }
      // CPU the server spent per request: unlike wall time, not inflated by other processes on the machine.
      const cpuMs = ((server.cpuSeconds() - cpuBefore) * 1000) / QUERIES;
      const [s, g, a] = [summarize(sqlMs), summarize(gqlMs), summarize(added)];
      worstP95 = Math.max(worstP95, g.p95);
      worstAdded = Math.max(worstAdded, a.p50);
      rows.push([
        name,
        fixed(s.p50),
        fixed(s.p95),
        fixed(g.p50),
        fixed(g.p95),
        fixed(a.p50),
        fixed(cpuMs),
        fixed(found / QUERIES),
      ]);
    }
    await server.stop();
    printTable(
      [
        'kind',
        'SQL p50',
        'SQL p95',
        'GraphQL p50',
        'GraphQL p95',
        'added p50',
        'server CPU ms',
        'contacts/page',
      ],
      rows,
    );
    console.log(
      `target p95 <= 15 ms for every kind: ${fixed(worstP95)} ms worst (${verdict(worstP95 <= 15)})`,
    );
    console.log(
      `target GraphQL adds <= 3 ms (median): ${fixed(worstAdded)} ms worst (${verdict(worstAdded <= 3)})`,
    );
    for (const [name, make] of kinds) {
      const plan = await client.query(`explain ${inbox().sql(make().filter, pageOf(make()))}`);
      const used = plan.rows.map((r) => String(r['QUERY PLAN'])).filter((l) => /Index|Seq Scan/.test(l));
      console.log(`plan, ${name}: ${used.map((l) => l.trim().replace(/\s+\(cost.*$/, '')).join(' | ')}`);
    }
  } finally {
    await client.end();
    await orm.close(true);
  }
});
