import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const MUTATION =
  'mutation { submitContact(input: { name: "Mallory", email: "mallory@example.com", message: "forged" }) { contact { id } } }';
const contacts = async () =>
  Number((await query<{ n: string }>(t.databaseUrl, 'select count(*) as n from contacts'))[0]!.n);
const post = (body: string, contentType: string, headers: Record<string, string> = {}) =>
  fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });

describe('cross-site requests', () => {
  it('a form-encoded POST (a simple request) does not execute', async () => {
    const res = await post(
      new URLSearchParams({ query: MUTATION }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect(res.status).toBe(403);
    expect(JSON.stringify(await res.json())).toContain('FORBIDDEN');
    expect(await contacts()).toBe(0);
  });

  it('a text/plain POST (a simple request) does not execute', async () => {
    const res = await post(JSON.stringify({ query: MUTATION }), 'text/plain;charset=UTF-8');
    expect(res.status).toBe(403);
    await res.text();
    expect(await contacts()).toBe(0);
  });

  it('a JSON POST needs no header: browsers preflight it', async () => {
    const res = await post(JSON.stringify({ query: MUTATION }), 'application/json');
    expect(res.status).toBe(200);
    expect((await res.json()).data.submitContact.contact.id).toBeTruthy();
    expect(await contacts()).toBe(1);
  });

  it('a GET query needs the CSRF header; a GET mutation never runs', async () => {
    const url = (q: string) => `${t.url}/graphql?query=${encodeURIComponent(q)}`;
    const bare = await fetch(url('{ __typename }'));
    expect(bare.status).toBe(403);
    await bare.text();
    const withHeader = await fetch(url('{ __typename }'), { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(await withHeader.json()).toEqual({ data: { __typename: 'Query' } });
    const mutation = await fetch(url(MUTATION), { headers: { 'apollo-require-preflight': 'true' } });
    expect(mutation.status).toBe(405);
    await mutation.text();
    expect(await contacts()).toBe(1);
  });
});

describe('CORS outside production', () => {
  it('answers any origin, without credentials', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    await res.text();
  });
});
