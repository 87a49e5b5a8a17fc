import { randomUUID } from 'node:crypto';
import getPort from 'get-port';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/errors.ts';
import { initORM } from '../../../src/services/db/orm.ts';
import { createPostgresEngine } from '../../../src/services/search/postgres.engine.ts';
import { parseQuery, restore } from '../../../src/services/search/postgres-query.ts';
import type { SearchEngine, SearchQuery } from '../../../src/services/search/search-engine.ts';
import { createTestDatabase } from '../../support/db.ts';
import {
  defineSearchEngineContract,
  makeSearchDocument,
  removeEverything,
} from './search-engine.contract.ts';

async function migratedDatabase() {
  const db = await createTestDatabase();
  const orm = await initORM(db.url);
  await orm.close();
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  return {
    pool,
    close: async () => {
      await pool.end();
      await db.drop();
    },
  };
}

defineSearchEngineContract('postgres', async () => {
  const { pool, close } = await migratedDatabase();
  const engine = createPostgresEngine(pool);
  return { engine, reset: () => removeEverything(engine), teardown: close };
});

describe('postgres engine specifics', () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let engine: SearchEngine;
  const search = (query: string, more: Partial<Omit<SearchQuery, 'query'>> = {}) =>
    engine.search({ query, filter: {}, limit: 20, offset: 0, ...more });
  const ids = async (query: string, more: Partial<Omit<SearchQuery, 'query'>> = {}) =>
    (await search(query, more)).hits.map((h) => h.id);

  beforeAll(async () => {
    db = await migratedDatabase();
    engine = createPostgresEngine(db.pool, { batchSize: 7, concurrency: 3 });
    await engine.ensureSettings();
  });
  afterAll(() => db?.close());
  beforeEach(() => removeEverything(engine));

  it('fills the word table with the distinct lowercased words and their stems', async () => {
    await engine.index([
      makeSearchDocument({ filename: 'Quarterly-Report.pdf', text: 'Zanzibar cloves, ZANZIBAR harbours.' }),
    ]);
    const { rows } = await db.pool.query<{ word: string; lexeme: string | null }>(
      `select word, lexeme from search_words where word in ('zanzibar', 'harbours', 'quarterly', 'report', 'cloves', 'pdf')`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.word, r.lexeme]))).toMatchObject({
      zanzibar: 'zanzibar',
      harbours: 'harbour',
      quarterly: 'quarter',
      cloves: 'clove',
    });
    expect((await db.pool.query(`select 1 from search_words where word <> lower(word)`)).rowCount).toBe(0);
  });

  it('indexes large batches in parallel; the last copy of an id wins; NUL bytes are dropped', async () => {
    const docs = Array.from({ length: 60 }, (_, i) =>
      makeSearchDocument({ text: `Crate ${i} of pelican\u0000feed.` }),
    );
    const last = { ...docs[3]!, text: 'Walrus tusks, replacing the crate.', version: 99 };
    await engine.index([...docs, last]);
    expect((await engine.inventory()).size).toBe(60);
    expect((await engine.inventory()).get(last.id)).toBe(99);
    expect((await search('pelican')).totalHits).toBe(59);
    expect(await ids('walrus')).toEqual([last.id]);
  });

  it('survives operator soup, NUL bytes and a 1000-character query', async () => {
    await engine.index([makeSearchDocument({ text: 'Acme cranes at the harbour.' })]);
    const soup = `a:* & !b <-> (c | d) ' \\ ; -- /* \u0000 ${'x&|!<->():*'.repeat(100)}`.slice(0, 1000);
    for (const q of [
      soup,
      'acme:*',
      "acme' | 'x",
      'acme & !',
      '!acme',
      '<->',
      '\u0000',
      'acme\u0000harbour',
    ]) {
      await expect(search(q)).resolves.toBeDefined();
    }
    await expect(search('acme', { filter: { documentType: 'a\u0000b' } })).resolves.toMatchObject({
      totalHits: 0,
    });
  });

  it('understands phrases, exclusions and compounds', async () => {
    const town = makeSearchDocument({
      text: 'Two containers from Stone Town to Rotterdam.',
      filename: 'invoice-2024-03.pdf',
    });
    const other = makeSearchDocument({
      text: 'A town built of stone, near Rotterdam; e-mail sent, 3.14 tons.',
    });
    await engine.index([town, other]);
    expect(await ids('"stone town"')).toEqual([town.id]);
    expect(await ids('rotterdam -"stone town"')).toEqual([other.id]);
    expect(await ids('rotterdam -containers')).toEqual([other.id]);
    expect(await ids('invoice-2024')).toEqual([town.id]);
    const [hit] = (await search('3.14 e-mail')).hits;
    expect(hit?.highlights.find((h) => h.field === 'text')?.snippet).toContain(
      '<em>e</em>-<em>mail</em> sent, <em>3</em>.<em>14</em>',
    );
    const [byName] = (await search('invoice 2024')).hits;
    expect(byName?.highlights.find((h) => h.field === 'filename')?.snippet).toBe(
      '<em>invoice</em>-<em>2024</em>-03.pdf',
    );
  });

  it('highlights a match deep inside a long text', async () => {
    const filler = 'Routine paragraph about nothing in particular. '.repeat(2000);
    const doc = makeSearchDocument({ text: `${filler}The Zanzibar companies shipped cloves. ${filler}` });
    await engine.index([doc]);
    for (const query of ['zanzibar', 'company']) {
      const [hit] = (await search(query)).hits;
      expect(hit?.highlights.find((h) => h.field === 'text')?.snippet).toMatch(
        /<em>(Zanzibar|companies)<\/em>/,
      );
    }
  });

  it('escapes markup in filenames too', async () => {
    await engine.index([
      makeSearchDocument({ filename: '<em>tricky</em> & "quoted" report.pdf', text: 'Nothing.' }),
    ]);
    const [hit] = (await search('report')).hits;
    expect(hit?.highlights.find((h) => h.field === 'filename')?.snippet).toBe(
      '&lt;em&gt;tricky&lt;/em&gt; &amp; &quot;quoted&quot; <em>report</em>.pdf',
    );
  });

  it('treats a query of stop words like one without words', async () => {
    const older = makeSearchDocument({ createdAt: new Date('2024-01-01T00:00:00Z') });
    const newer = makeSearchDocument({ createdAt: new Date('2024-02-01T00:00:00Z') });
    await engine.index([older, newer]);
    expect(await ids('the of and')).toEqual([newer.id, older.id]);
  });

  it('filters by dates with and without words, over short and long ranges', async () => {
    const at = (iso: string) => makeSearchDocument({ text: 'Acme harbour log.', createdAt: new Date(iso) });
    const docs = [
      at('2019-06-01T00:00:00Z'),
      at('2024-03-10T00:00:00Z'),
      at('2024-03-20T00:00:00Z'),
      at('2025-01-01T00:00:00Z'),
    ];
    await engine.index(docs);
    const d = (iso: string) => new Date(iso);
    for (const query of ['acme', '']) {
      const found = async (filter: SearchQuery['filter']) => new Set(await ids(query, { filter }));
      expect(
        await found({ createdAfter: d('2024-03-10T00:00:00Z'), createdBefore: d('2024-03-20T00:00:00Z') }),
      ).toEqual(new Set([docs[1]!.id]));
      expect(await found({ createdAfter: d('2024-03-11T00:00:00Z') })).toEqual(
        new Set([docs[2]!.id, docs[3]!.id]),
      );
      expect(await found({ createdAfter: d('2000-01-01T00:00:00Z') })).toEqual(
        new Set(docs.map((x) => x.id)),
      );
      expect(await found({ createdBefore: d('2024-03-10T00:00:00Z') })).toEqual(new Set([docs[0]!.id]));
      expect(
        await found({ createdAfter: d('2024-03-21T00:00:00Z'), createdBefore: d('2024-03-21T00:00:00Z') }),
      ).toEqual(new Set());
    }
  });

  it('caps totalHits and paging at maxHits', async () => {
    const capped = createPostgresEngine(db.pool, { maxHits: 5 });
    await engine.index(Array.from({ length: 8 }, () => makeSearchDocument({ text: 'Pelican survey.' })));
    const first = await capped.search({ query: 'pelican', filter: {}, limit: 4, offset: 0 });
    expect(first.totalHits).toBe(5);
    expect(first.hits).toHaveLength(4);
    expect((await capped.search({ query: 'pelican', filter: {}, limit: 4, offset: 4 })).hits).toHaveLength(1);
    expect((await capped.search({ query: 'pelican', filter: {}, limit: 4, offset: 8 })).hits).toEqual([]);
  });

  it('takes the newest matches of a common word from the recent periods first', async () => {
    const at = (iso: string) =>
      makeSearchDocument({ text: 'Pelican survey.', createdAt: new Date(`${iso}T00:00:00Z`) });
    const old = ['2020-01-01', '2020-02-01', '2020-03-01'].map(at);
    const recent = ['2024-06-01', '2024-06-03', '2024-06-02'].map(at);
    for (const doc of [...old, ...recent]) await engine.index([doc]); // table order: oldest first
    const newest = async (scanLimit: number) =>
      new Set(
        (
          await createPostgresEngine(db.pool, { maxHits: 2, scanLimit }).search({
            query: 'pelican',
            filter: {},
            limit: 5,
            offset: 0,
          })
        ).hits.map((h) => h.id),
      );
    // Reading only 3 matches, the recent periods still give the 2 newest of the 6.
    expect(await newest(3)).toEqual(new Set([recent[1]!.id, recent[2]!.id]));
    await engine.remove([recent[0]!.id, recent[2]!.id]);
    // Too few there: the whole table, where the newest 2 are found among the first scanLimit matches.
    expect(await newest(10)).toEqual(new Set([recent[1]!.id, old[2]!.id]));
    expect(await newest(3)).toEqual(new Set([old[1]!.id, old[2]!.id]));
  });

  it('corrects only words no document has, to a word some document has', async () => {
    const doc = makeSearchDocument({ text: 'Invoices for the harbour cranes.' });
    await engine.index([doc]);
    expect(await ids('harbor')).toEqual([doc.id]);
    expect(await ids('invoicing')).toEqual([doc.id]);
    expect(await ids('cranez')).toEqual([doc.id]);
    expect(await ids('xylophone')).toEqual([]);
  });

  it('forgets the words only removed documents had, and keeps the words others still have', async () => {
    const gone = makeSearchDocument({
      filename: 'quokka.pdf',
      text: 'Harbour quokkas',
      contactName: 'Zebedee Farquharson',
    });
    const kept = makeSearchDocument({ text: 'Harbour cranes' });
    await engine.index([gone, kept]);
    await engine.remove([gone.id]);
    const { rows } = await db.pool.query<{ word: string }>(
      `select word from search_words where word in ('quokka', 'quokkas', 'zebedee', 'farquharson', 'harbour', 'cranes')`,
    );
    expect(rows.map((r) => r.word).sort()).toEqual(['cranes', 'harbour']);
    expect(await ids('farquharsen')).toEqual([]);
    // Indexed again, its words come back (this process's cache of known words forgot them too).
    await engine.index([gone]);
    expect(await ids('farquharsen')).toEqual([gone.id]);
  });

  it('finds documents by contact name', async () => {
    const doc = makeSearchDocument({ contactName: 'Amina Mwangi', contactId: randomUUID() });
    await engine.index([doc, makeSearchDocument()]);
    expect(await ids('mwangi')).toEqual([doc.id]);
  });

  it('says what is missing when the migrations have not run', async () => {
    const bare = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: bare.url, max: 1 });
    try {
      await expect(createPostgresEngine(pool).ensureSettings()).rejects.toThrow(/migrations/);
    } finally {
      await pool.end();
      await bare.drop();
    }
  });
});

describe('postgres engine without a database', () => {
  it('throws UnavailableError from every call', async () => {
    const pool = new pg.Pool({
      connectionString: `postgres://x:y@127.0.0.1:${await getPort()}/none`,
      max: 1,
    });
    const engine = createPostgresEngine(pool);
    try {
      for (const call of [
        () => engine.health(),
        () => engine.ensureSettings(),
        () => engine.index([makeSearchDocument()]),
        () => engine.remove([randomUUID()]),
        () => engine.inventory(),
        () => engine.search({ query: 'acme', filter: {}, limit: 10, offset: 0 }),
        () => engine.search({ query: '', filter: {}, limit: 10, offset: 0 }),
      ]) {
        await expect(call()).rejects.toBeInstanceOf(UnavailableError);
      }
    } finally {
      await pool.end();
    }
  });
});

describe('postgres query parsing', () => {
  it('splits words, phrases, compounds and exclusions', () => {
    expect(parseQuery('Zanzibar "Stone  Town" -fax -"old copy" invoice-2024.pdf x-')).toEqual({
      terms: [
        { text: 'zanzibar', phrase: false, correctable: true },
        { text: 'stone town', phrase: true, correctable: false },
        { text: 'invoice 2024 pdf', phrase: true, correctable: false },
        { text: 'x', phrase: false, correctable: false },
      ],
      negated: [
        { text: 'fax', phrase: false, correctable: false },
        { text: 'old copy', phrase: true, correctable: false },
      ],
    });
    expect(parseQuery('a-b -c d--e').negated.map((t) => t.text)).toEqual(['c']);
    expect(parseQuery('w '.repeat(30)).terms).toHaveLength(10);
    expect(parseQuery('* & | ! :').terms).toEqual([]);
  });

  it('restores split characters under the marks, or keeps the escaped headline', () => {
    expect(restore('<em>invoice</em> 2024 pdf', 'invoice-2024.pdf')).toBe('<em>invoice</em>-2024.pdf');
    expect(restore('<em>a</em> b', 'a?b')).toBe('<em>a</em> b');
    expect(restore('<em>a</em> b', null)).toBe('<em>a</em> b');
  });
});
