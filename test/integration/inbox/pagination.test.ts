import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import { seedContacts } from '../../support/seed.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ WORKERS: '0' });
  await seedContacts((sql, params) => query(t.databaseUrl, sql, params), { count: 250 });
});
afterAll(() => t.stop());

interface Page {
  contacts: {
    edges: { cursor: string; node: { id: string; createdAt: string } }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
    totalCount: number;
  };
}

const PAGE = /* GraphQL */ `
  query($first: Int, $after: String, $last: Int, $before: String, $orderBy: ContactOrder) {
    contacts(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
      edges { cursor node { id createdAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    }
  }
`;

async function page(variables: Record<string, unknown>) {
  const r = await t.staff<Page>(PAGE, variables);
  expect(r.errors).toBeUndefined();
  return r.data!.contacts;
}

const submitSome = async (n: number) => {
  const results = await Promise.all(
    Array.from({ length: n }, () => t.gql(SUBMIT, { input: contactInput() })),
  );
  for (const r of results) expect(r.errors).toBeUndefined();
};

const allIds = async () => {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const p: Page['contacts'] = await page({ first: 100, after });
    ids.push(...p.edges.map((e) => e.node.id));
    if (!p.pageInfo.hasNextPage) return ids;
    after = p.pageInfo.endCursor;
  }
};

describe('contacts pages', () => {
  it('walk forwards newest first with no row twice and none skipped while contacts arrive', async () => {
    const before = await allIds();
    expect(before).toHaveLength(250);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const p: Page['contacts'] = await page({ first: 50, after });
      pages++;
      seen.push(...p.edges.map((e) => e.node.id));
      expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
      const times = p.edges.map((e) => Date.parse(e.node.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
      await submitSome(pages <= 2 ? 8 : 7); // 30 arrive while the client pages
    }
    expect(pages).toBe(5);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(before);
  });

  it('walk backwards from the oldest to the newest, arrivals included', async () => {
    const everything = await allIds();
    expect(everything).toHaveLength(280);
    const seen: string[] = [];
    let before: string | null = null;
    for (;;) {
      const p: Page['contacts'] = await page({ last: 40, before });
      seen.unshift(...p.edges.map((e) => e.node.id));
      expect(p.pageInfo.hasNextPage).toBe(before !== null);
      if (!p.pageInfo.hasPreviousPage) break;
      before = p.pageInfo.startCursor;
      if (seen.length === 120) await submitSome(5);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(-everything.length)).toEqual(everything);
    expect(seen.length).toBe(everything.length + 5);
  });

  it('orders oldest first on request and counts every contact', async () => {
    const p = await page({ first: 3, orderBy: 'CREATED_AT_ASC' });
    const times = p.edges.map((e) => Date.parse(e.node.createdAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const newest = await page({ first: 1 });
    expect(Date.parse(newest.edges[0]!.node.createdAt)).toBeGreaterThan(times[2]!);
    expect(p.totalCount).toBe(newest.totalCount);
    expect(p.totalCount).toBe(285);
    const rest = await page({ first: 2, after: p.pageInfo.endCursor, orderBy: 'CREATED_AT_ASC' });
    expect(Date.parse(rest.edges[0]!.node.createdAt)).toBeGreaterThanOrEqual(times[2]!);
    expect(rest.edges.map((e) => e.node.id)).not.toContain(p.edges[2]!.node.id);
  });

  it('default to 20 contacts', async () => {
    expect((await page({})).edges).toHaveLength(20);
  });
});

describe('bad page arguments', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['first 0', { first: 0 }, 'first'],
    ['first 101', { first: 101 }, 'first'],
    ['last -1', { last: -1 }, 'last'],
    ['first and last', { first: 10, last: 10 }, 'last'],
    ['a malformed after', { after: 'not-a-cursor' }, 'after'],
    ['a forged before', { last: 5, before: Buffer.from('123:nope').toString('base64url') }, 'before'],
  ];
  it.each(cases)('%s is BAD_USER_INPUT', async (_name, variables, path) => {
    const r = await t.staff(PAGE, variables);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.issues?.[0]?.path).toEqual([path]);
  });
});
