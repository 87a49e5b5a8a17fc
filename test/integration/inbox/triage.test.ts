import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';

let t: TestApp;
let id = '';
beforeAll(async () => {
  t = await startTestApp({ WORKERS: '0' });
  const r = await t.gql<{ submitContact: { contact: { id: string } } }>(SUBMIT, { input: contactInput() });
  id = r.data!.submitContact.contact.id;
});
afterAll(() => t.stop());

const MISSING = '00000000-0000-4000-8000-000000000000';
const CONTACT = /* GraphQL */ `
  query($id: ID!) { contact(id: $id) { status tags updatedAt createdAt notes { id body author createdAt } } }
`;
const UPDATE = /* GraphQL */ `
  mutation($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id status tags updatedAt } }
`;
const NOTE = /* GraphQL */ `
  mutation($contactId: ID!, $body: String!) { addContactNote(contactId: $contactId, body: $body) { id body author createdAt } }
`;

interface Triaged {
  status: string;
  tags: string[];
  updatedAt: string;
  createdAt: string;
  notes: { body: string; author: string }[];
}

const read = async () => (await t.staff<{ contact: Triaged }>(CONTACT, { id })).data!.contact;

describe('triage', () => {
  it('starts NEW with no tags or notes, updated when created', async () => {
    const c = await read();
    expect(c).toMatchObject({ status: 'NEW', tags: [], notes: [] });
    expect(c.updatedAt).toBe(c.createdAt);
  });

  it('changes status and replaces tags, normalised, and keeps them', async () => {
    const before = await read();
    const r = await t.staff<{ updateContact: Triaged }>(UPDATE, {
      id,
      input: { status: 'OPEN', tags: ['VIP', ' Urgent', 'vip'] },
    });
    expect(r.errors).toBeUndefined();
    expect(r.data!.updateContact).toMatchObject({ status: 'OPEN', tags: ['vip', 'urgent'] });
    expect(Date.parse(r.data!.updateContact.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
    await t.staff(UPDATE, { id, input: { tags: ['handled'] } });
    expect(await read()).toMatchObject({ status: 'OPEN', tags: ['handled'] });
    await t.staff(UPDATE, { id, input: { status: 'REPLIED' } });
    expect(await read()).toMatchObject({ status: 'REPLIED', tags: ['handled'] });
  });

  it('adds notes by the caller, oldest first', async () => {
    for (const body of ['Called back', '  Sent the quote  ']) {
      const r = await t.staff<{ addContactNote: { body: string; author: string } }>(NOTE, {
        contactId: id,
        body,
      });
      expect(r.errors).toBeUndefined();
      expect(r.data!.addContactNote).toMatchObject({ body: body.trim(), author: 'root' });
    }
    const c = await read();
    expect(c.notes.map((n) => [n.body, n.author])).toEqual([
      ['Called back', 'root'],
      ['Sent the quote', 'root'],
    ]);
  });

  it('records each change in the audit log, in its transaction', async () => {
    const r = await t.staff<{ auditEvents: { edges: { node: { actor: string; action: string } }[] } }>(
      'query($id: ID) { auditEvents(subjectId: $id, first: 100) { edges { node { actor action } } } }',
      { id },
    );
    expect(r.errors).toBeUndefined();
    const actions = r.data!.auditEvents.edges.map((e) => `${e.node.actor} ${e.node.action}`).reverse();
    expect(actions).toEqual([...Array(3).fill('root contact.update'), ...Array(2).fill('root contact.note')]);
  });

  it('refuses bad tags, statuses and notes with field paths, writing nothing', async () => {
    const before = await read();
    const cases: [string, Record<string, unknown>, (string | number)[]][] = [
      [UPDATE, { id, input: { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) } }, ['input', 'tags']],
      [UPDATE, { id, input: { tags: ['ok', ' '] } }, ['input', 'tags', 1]],
      [UPDATE, { id, input: { tags: ['x'.repeat(41)] } }, ['input', 'tags', 0]],
      [NOTE, { contactId: id, body: '   ' }, ['body']],
      [NOTE, { contactId: id, body: 'x'.repeat(5001) }, ['body']],
    ];
    for (const [q, variables, path] of cases) {
      const r = await t.staff(q, variables);
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0]?.extensions?.issues?.[0]?.path).toEqual(path);
    }
    const bad = await t.staff(UPDATE, { id, input: { status: 'DONE' } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await read()).toEqual(before);
  });

  it('answers NOT_FOUND for an unknown or malformed id', async () => {
    for (const missing of [MISSING, 'nope']) {
      const u = await t.staff(UPDATE, { id: missing, input: { status: 'OPEN' } });
      expect(u.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const n = await t.staff(NOTE, { contactId: missing, body: 'hello' });
      expect(n.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    const [row] = await query<{ n: number }>(t.databaseUrl, 'select count(*)::int as n from contact_notes');
    expect(row!.n).toBe(2);
  });
});
