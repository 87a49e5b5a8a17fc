import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { multipart } from '../../support/upload.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const id = '00000000-0000-4000-8000-000000000000';
const staffFields: [string, string, Record<string, unknown>][] = [
  ['contact', 'query($id: ID!) { contact(id: $id) { id } }', { id }],
  ['document', 'query($id: ID!) { document(id: $id) { id } }', { id }],
  ['searchDocuments', 'query { searchDocuments(query: "anything") { totalHits } }', {}],
];

describe.each(staffFields)('%s is staff-only', (field, query, variables) => {
  it('refuses a request without a token with UNAUTHENTICATED', async () => {
    const r = await t.gql(query, variables);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.errors?.[0]?.path).toEqual([field]);
  });

  it('refuses a wrong token with UNAUTHENTICATED', async () => {
    for (const authorization of [
      `Bearer ${STAFF_TOKEN}x`,
      'Bearer wrong',
      STAFF_TOKEN,
      `Basic ${STAFF_TOKEN}`,
    ]) {
      const r = await t.gql(query, variables, { authorization });
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('answers with the right token', async () => {
    const r = await t.gql(query, variables, { authorization: `Bearer ${STAFF_TOKEN}` });
    expect(r.errors).toBeUndefined();
    expect(r.data).toHaveProperty(field);
  });
});

describe('uploadDocument is staff-only', () => {
  it('refuses a multipart upload without a token', async () => {
    const form = new FormData();
    form.append(
      'operations',
      JSON.stringify({
        query: 'mutation($f: Upload!) { uploadDocument(file: $f) { id } }',
        variables: { f: null },
      }),
    );
    form.append('map', JSON.stringify({ 0: ['variables.f'] }));
    form.append('0', new Blob(['hello world']), 'a.txt');
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      body: form,
      headers: { 'apollo-require-preflight': 'true' },
    });
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('unknown ids', () => {
  it('answer null for a missing or malformed id', async () => {
    for (const v of [id, 'not-a-uuid']) {
      const r = await t.staff<{ contact: null; document: null }>(
        'query($id: ID!) { contact(id: $id) { id } document(id: $id) { id } }',
        { id: v },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data).toEqual({ contact: null, document: null });
    }
  });
});

describe('staff-side fields refuse a request without a token', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['contacts', 'query { contacts { totalCount } }', {}],
    ['documents', 'query { documents { totalCount } }', {}],
    [
      'updateContact',
      'mutation($id: ID!) { updateContact(id: $id, input: { status: OPEN }) { id } }',
      { id },
    ],
    ['addContactNote', 'mutation($id: ID!) { addContactNote(contactId: $id, body: "hi") { id } }', { id }],
    ['reprocessDocument', 'mutation($id: ID!) { reprocessDocument(id: $id) { id } }', { id }],
    ['contactSubmitted', 'subscription { contactSubmitted { id } }', {}],
  ];
  it.each(cases)('%s', async (field, query, variables) => {
    const r = await t.gql(query, variables);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.errors?.[0]?.path).toEqual([field]);
  });

  it.each(['status', 'tags', 'notes { id }'])('Contact.%s', async (field) => {
    const r = await t.gql(
      `mutation { submitContact(input: { name: "A", email: "a@example.com", message: "hi" }) { contact { id ${field} } } }`,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.errors?.[0]?.path).toEqual(['submitContact', 'contact', field.split(' ')[0]]);
  });

  it.each(['text', 'downloadUrl', 'downloadUrl(inline: true)'])('Document.%s', async (field) => {
    const r = await multipart(
      t.url,
      `mutation($input: ContactInput!, $files: [Upload!]) {
         submitContact(input: $input, attachments: $files) { documents { id ${field} } } }`,
      { input: { name: 'A', email: 'a@example.com', message: 'hi' }, files: [null] },
      [{ path: 'variables.files.0', name: 'cv.txt', content: 'curriculum vitae' }],
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.errors?.[0]?.path).toEqual(['submitContact', 'documents', 0, field.split('(')[0]]);
  });
});
