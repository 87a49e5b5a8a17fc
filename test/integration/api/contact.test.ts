import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

async function countContacts(where = 'true', params: unknown[] = []): Promise<number> {
  const [row] = await query<{ n: number }>(
    t.databaseUrl,
    `select count(*)::int as n from contacts where ${where}`,
    params,
  );
  return row!.n;
}

const issuesOf = (r: {
  errors?: { extensions?: { code?: string; issues?: { path: (string | number)[] }[] } }[];
}) => {
  expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  return (r.errors?.[0]?.extensions?.issues ?? []).map((i) => i.path.join('.'));
};

describe('submitContact', () => {
  it('stores the contact and answers with it, trimmed, source defaulting to website', async () => {
    const input = contactInput({ name: '  Grace Hopper  ', company: null, service: null });
    const r = await t.gql<{ submitContact: { contact: Record<string, unknown>; documents: unknown[] } }>(
      SUBMIT,
      { input },
    );
    expect(r.errors).toBeUndefined();
    const c = r.data!.submitContact.contact;
    expect(c).toMatchObject({
      name: 'Grace Hopper',
      email: input.email,
      company: null,
      service: null,
      source: 'website',
    });
    expect(r.data!.submitContact.documents).toEqual([]);
    const read = await t.staff<{ contact: Record<string, unknown> }>(
      'query($id: ID!) { contact(id: $id) { id name message source documents { id } } }',
      { id: c.id },
    );
    expect(read.data!.contact).toEqual({
      id: c.id,
      name: 'Grace Hopper',
      message: input.message,
      source: 'website',
      documents: [],
    });
  });

  it.each([
    ['name', { name: '' }],
    ['name', { name: '    ' }],
    ['name', { name: 'x'.repeat(101) }],
    ['name', { name: 'Eve\r\nBcc: x@example.com' }],
    ['email', { email: 'not-an-email' }],
    ['email', { email: `${'a'.repeat(250)}@example.com` }],
    ['company', { company: 'c'.repeat(101) }],
    ['service', { service: 's'.repeat(101) }],
    ['message', { message: '' }],
    ['message', { message: ' \n ' }],
    ['message', { message: 'm'.repeat(5001) }],
    ['source', { source: '' }],
    ['source', { source: 's'.repeat(101) }],
  ])('refuses a bad %s with BAD_USER_INPUT naming input.%s', async (field, override) => {
    const before = await countContacts();
    const r = await t.gql(SUBMIT, { input: contactInput(override) });
    expect(issuesOf(r)).toEqual([`input.${field}`]);
    expect(r.data ?? null).toBeNull();
    expect(await countContacts()).toBe(before);
  });

  it('lists one issue per failed rule', async () => {
    const r = await t.gql(SUBMIT, { input: contactInput({ name: '', email: 'nope', message: '' }) });
    expect(issuesOf(r).sort()).toEqual(['input.email', 'input.message', 'input.name']);
  });

  it('accepts the limits exactly', async () => {
    const r = await t.gql(SUBMIT, {
      input: contactInput({
        name: 'n'.repeat(100),
        company: 'c'.repeat(100),
        service: 's'.repeat(100),
        message: 'm'.repeat(5000),
      }),
    });
    expect(r.errors).toBeUndefined();
  });

  it('refuses a malformed idempotency key', async () => {
    const r = await t.gql(SUBMIT, { input: contactInput(), key: 'short' });
    expect(issuesOf(r)).toEqual(['idempotencyKey']);
  });
});

describe('idempotency', () => {
  it('answers a repeat with the first result and writes nothing', async () => {
    const input = contactInput();
    const key = `key-${crypto.randomUUID()}`;
    const a = await t.gql<{ submitContact: { contact: { id: string } } }>(SUBMIT, { input, key });
    const b = await t.gql<{ submitContact: { contact: { id: string } } }>(SUBMIT, { input, key });
    expect(b.errors).toBeUndefined();
    expect(b.data!.submitContact.contact.id).toBe(a.data!.submitContact.contact.id);
    expect(await countContacts('idempotency_key = $1', [key])).toBe(1);
  });

  it('answers CONFLICT for the same key with other input', async () => {
    const key = `key-${crypto.randomUUID()}`;
    await t.gql(SUBMIT, { input: contactInput(), key });
    const r = await t.gql(SUBMIT, { input: contactInput({ message: 'something else' }), key });
    expect(r.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await countContacts('idempotency_key = $1', [key])).toBe(1);
  });

  it('makes exactly one row from concurrent requests with one key', async () => {
    const input = contactInput();
    const key = `key-${crypto.randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        t.gql<{ submitContact: { contact: { id: string } } }>(SUBMIT, { input, key }),
      ),
    );
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => r.data!.submitContact.contact.id)).size).toBe(1);
    expect(await countContacts('idempotency_key = $1', [key])).toBe(1);
  });
});

describe('honeypot', () => {
  it('looks like success, stores nothing and counts it', async () => {
    const input = contactInput({ fax: '+1 555 0100' });
    const before = await countContacts();
    const r = await t.gql<{ submitContact: { contact: { id: string; name: string } } }>(SUBMIT, { input });
    expect(r.errors).toBeUndefined();
    expect(r.data!.submitContact.contact.name).toBe(input.name);
    expect(await countContacts()).toBe(before);
    const read = await t.staff<{ contact: unknown }>('query($id: ID!) { contact(id: $id) { id } }', {
      id: r.data!.submitContact.contact.id,
    });
    expect(read.data!.contact).toBeNull();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^dossier_honeypot_total 1$/m);
  });
});

describe('submissions that arrive together', () => {
  it('are each stored with exactly one notification job, even when one of them conflicts', async () => {
    const key = `key-${crypto.randomUUID()}`;
    await t.gql(SUBMIT, { input: contactInput(), key });
    const inputs = Array.from({ length: 30 }, () => contactInput());
    const [conflict, ...results] = await Promise.all([
      t.gql(SUBMIT, { input: contactInput({ message: 'other' }), key }),
      ...inputs.map((input) => t.gql<{ submitContact: { contact: { id: string } } }>(SUBMIT, { input })),
    ]);
    expect(conflict!.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const ids = results.map((r) => r.data!.submitContact.contact.id);
    expect(new Set(ids).size).toBe(30);
    const [row] = await query<{ contacts: number; jobs: number }>(
      t.databaseUrl,
      `select (select count(*) from contacts where id = any($1::uuid[]))::int as contacts,
              (select count(*) from pgboss.job, jsonb_array_elements_text(data->'contactIds') as c(contact_id)
                where name = 'contact-notify' and c.contact_id::uuid = any($1::uuid[]))::int as jobs`,
      [ids],
    );
    expect(row).toEqual({ contacts: 30, jobs: 30 });
  });
});
