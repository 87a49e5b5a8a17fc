import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { seedContacts } from '../../support/seed.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ WORKERS: '0' });
  await seedContacts((sql, params) => query(t.databaseUrl, sql, params), { count: 300 });
  await query(t.databaseUrl, 'create extension if not exists pg_stat_statements');
});
afterAll(() => t.stop());

const PAGE = /* GraphQL */ `
  query($first: Int) {
    contacts(first: $first, filter: { hasDocuments: true }) {
      edges { node { id status notes { id } documents { id contact { id } } } }
    }
  }
`;

/** Statements this database ran for one request (pg_stat_statements; the job queue's own excluded). */
async function statementsFor(first: number): Promise<number> {
  await query(t.databaseUrl, 'select pg_stat_statements_reset()');
  const r = await t.staff<{ contacts: { edges: { node: { documents: unknown[] } }[] } }>(PAGE, { first });
  expect(r.errors).toBeUndefined();
  expect(r.data!.contacts.edges).toHaveLength(first);
  expect(r.data!.contacts.edges.every((e) => e.node.documents.length > 0)).toBe(true);
  const [row] = await query<{ n: number }>(
    t.databaseUrl,
    `select coalesce(sum(calls), 0)::int as n from pg_stat_statements s
       join pg_database d on d.oid = s.dbid
      where d.datname = current_database() and s.query not ilike '%pgboss%' and s.query not ilike '%pg_stat_statements%'`,
  );
  return row!.n;
}

describe("contacts with their documents, notes and documents' contacts", () => {
  it('cost the same number of SQL statements for 10 and for 100 contacts', async () => {
    const ten = await statementsFor(10);
    const hundred = await statementsFor(100);
    expect(hundred).toBe(ten);
    expect(ten).toBeLessThanOrEqual(4);
  });
});
