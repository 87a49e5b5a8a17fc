import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
const ids: Record<'a' | 'b' | 'c' | 'd', string> = { a: '', b: '', c: '', d: '' };
let mark = '';

const UPDATE = /* GraphQL */ `
  mutation($id: ID!, $input: UpdateContactInput!) {
    updateContact(id: $id, input: $input) { id status tags updatedAt }
  }
`;

async function submit(overrides: Record<string, unknown>, file?: string): Promise<string> {
  if (!file) {
    const r = await t.gql<{ submitContact: { contact: { id: string } } }>(SUBMIT, {
      input: contactInput(overrides),
    });
    return r.data!.submitContact.contact.id;
  }
  const r = await multipart<{ submitContact: { contact: { id: string } } }>(
    t.url,
    SUBMIT_WITH_FILES,
    { input: contactInput(overrides), attachments: [null] },
    [
      {
        path: 'variables.attachments.0',
        name: file,
        content: 'The quick brown fox jumps over the lazy dog.',
      },
    ],
  );
  return r.data!.submitContact.contact.id;
}

async function triage(id: string, input: Record<string, unknown>) {
  const r = await t.staff(UPDATE, { id, input });
  expect(r.errors).toBeUndefined();
}

beforeAll(async () => {
  t = await startTestApp();
  ids.a = await submit({ name: 'Grace Hopper', company: 'US Navy', service: 'Audit' }, 'a.txt');
  ids.b = await submit({ name: 'Alan Turing', company: null, service: 'Training', source: 'referral' });
  await new Promise((r) => setTimeout(r, 5));
  mark = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  ids.c = await submit(
    { name: 'Ada King', service: 'Audit', source: 'referral', message: '100% sure' },
    'c.md',
  );
  ids.d = await submit({ name: 'Edsger Dijkstra', email: 'zebra@example.org', service: 'Advice' });
  await triage(ids.a, { status: 'OPEN', tags: ['VIP', ' urgent '] });
  await triage(ids.b, { tags: ['urgent'] });
  await triage(ids.c, { status: 'SPAM' });
  await triage(ids.d, { status: 'ARCHIVED', tags: ['vip'] });
});
afterAll(() => t.stop());

const LIST = /* GraphQL */ `
  query($filter: ContactFilter, $first: Int) {
    contacts(filter: $filter, first: $first) { totalCount edges { node { id } } }
  }
`;

async function matching(filter: Record<string, unknown>, first = 100) {
  const r = await t.staff<{ contacts: { totalCount: number; edges: { node: { id: string } }[] } }>(LIST, {
    filter,
    first,
  });
  expect(r.errors).toBeUndefined();
  const found = r.data!.contacts.edges.map((e) => e.node.id);
  const names = (Object.keys(ids) as (keyof typeof ids)[]).filter((k) => found.includes(ids[k])).sort();
  return { names, totalCount: r.data!.contacts.totalCount };
}

describe('contact filters', () => {
  const alone: [string, Record<string, unknown>, string[]][] = [
    ['status (any of)', { status: ['OPEN', 'SPAM'] }, ['a', 'c']],
    ['tags (all of)', { tags: ['vip'] }, ['a', 'd']],
    ['tags normalised', { tags: ['VIP', 'Urgent'] }, ['a']],
    ['service', { service: 'Audit' }, ['a', 'c']],
    ['source', { source: 'referral' }, ['b', 'c']],
    ['createdAfter', { createdAfter: '' }, ['c', 'd']],
    ['createdBefore', { createdBefore: '' }, ['a', 'b']],
    ['hasDocuments', { hasDocuments: true }, ['a', 'c']],
    ['no documents', { hasDocuments: false }, ['b', 'd']],
    ['search in name, any case', { search: 'HOPPER' }, ['a']],
    ['search in email', { search: 'zebra@' }, ['d']],
    ['search in company', { search: 'us navy' }, ['a']],
    ['search in message, % literal', { search: '100%' }, ['c']],
    ['search for an underscore matches no wildcard', { search: 'a_a' }, []],
  ];
  it.each(alone)('%s', async (_name, filter, expected) => {
    for (const k of ['createdAfter', 'createdBefore'] as const) if (k in filter) filter[k] = mark;
    const { names, totalCount } = await matching(filter);
    expect(names).toEqual(expected);
    expect(totalCount).toBe(expected.length);
  });

  it('compose with AND, and totalCount counts past the page', async () => {
    expect((await matching({ status: ['OPEN', 'NEW'], tags: ['urgent'], hasDocuments: true })).names).toEqual(
      ['a'],
    );
    expect((await matching({ service: 'Audit', source: 'referral', createdAfter: mark })).names).toEqual([
      'c',
    ]);
    expect((await matching({ tags: ['vip'], search: 'dijkstra', status: ['ARCHIVED'] })).names).toEqual([
      'd',
    ]);
    expect((await matching({ tags: ['vip'], status: ['NEW'] })).names).toEqual([]);
    const firstOnly = await matching({ tags: ['vip'] }, 1);
    expect(firstOnly.names).toHaveLength(1);
    expect(firstOnly.totalCount).toBe(2);
  });

  it('refuse a search shorter than 3 characters and tags over 40 characters', async () => {
    for (const [filter, path] of [
      [{ search: ' ab ' }, ['filter', 'search']],
      [{ tags: ['x'.repeat(41)] }, ['filter', 'tags', 0]],
    ] as const) {
      const r = await t.staff(LIST, { filter });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0]?.extensions?.issues?.[0]?.path).toEqual(path);
    }
  });
});

describe('document filters', () => {
  const DOCS = /* GraphQL */ `
    query($filter: DocumentFilter) {
      documents(filter: $filter, first: 100) { totalCount edges { node { filename contact { id } } } }
    }
  `;
  const files = async (filter: Record<string, unknown>) => {
    const r = await t.staff<{ documents: { totalCount: number; edges: { node: { filename: string } }[] } }>(
      DOCS,
      { filter },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.documents.totalCount).toBe(r.data!.documents.edges.length);
    return r.data!.documents.edges.map((e) => e.node.filename).sort();
  };

  it('match status, types, language, contact, dates and needsOcr', async () => {
    // Polled while extraction runs: the page and its count are two statements, so they may disagree here.
    const completed = async () =>
      (await t.staff<{ documents: { edges: unknown[] } }>(DOCS, { filter: { status: ['COMPLETED'] } })).data
        ?.documents.edges.length;
    await waitFor(async () => (await completed()) === 2, 20_000, 'extraction');
    expect(await files({})).toEqual(['a.txt', 'c.md']);
    expect(await files({ status: ['FAILED', 'PENDING'] })).toEqual([]);
    expect(await files({ contentType: 'text/markdown' })).toEqual(['c.md']);
    expect(await files({ contactId: ids.a })).toEqual(['a.txt']);
    expect(await files({ contactId: 'not-a-uuid' })).toEqual([]);
    expect(await files({ language: 'en' })).toEqual(['a.txt', 'c.md']);
    expect(await files({ language: 'fr' })).toEqual([]);
    expect(await files({ createdAfter: mark })).toEqual(['c.md']);
    expect(await files({ createdBefore: mark, contentType: 'text/plain' })).toEqual(['a.txt']);
    expect(await files({ needsOcr: false })).toEqual(['a.txt', 'c.md']);
    expect(await files({ needsOcr: true })).toEqual([]);
    expect(await files({ documentType: 'cv' })).toEqual([]);
  });
});
