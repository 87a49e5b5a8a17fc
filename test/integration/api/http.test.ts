import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLog, startTestApp, type TestApp } from '../../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const post = (body: string, contentType = 'application/json', headers: Record<string, string> = {}) =>
  fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });

describe('query limits', () => {
  it('refuses a query deeper than the limit before executing it', async () => {
    const deep = `{ contact(id: "x") { documents { contact { documents { contact { documents { contact { documents { contact { id } } } } } } } } } }`;
    const r = await t.staff(deep);
    expect(r.errors?.[0]?.message).toMatch(/depth/i);
    expect(r.data ?? null).toBeNull();
  });

  it('refuses too many aliases', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: document(id: "${i}") { id }`).join(' ');
    const r = await t.staff(`{ ${aliases} }`);
    expect(r.errors?.[0]?.message).toMatch(/alias/i);
  });

  it('refuses too many directives', async () => {
    const r = await t.gql(`{ __typename ${'@include(if: true) '.repeat(20)} }`);
    expect(r.errors?.[0]?.message).toMatch(/directive/i);
  });

  it('refuses too many tokens', async () => {
    const r = await t.gql(`{ ${'__typename '.repeat(3000)} }`);
    expect(r.errors?.[0]?.message).toMatch(/token/i);
  });
});

describe('variables of the wrong type', () => {
  it('answer BAD_USER_INPUT naming the variable', async () => {
    const r = await t.staff(
      'query($d: DateTime) { searchDocuments(query: "x", filter: { createdAfter: $d }) { totalHits } }',
      { d: 'yesterday' },
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.issues?.map((i) => i.path.join('.'))).toEqual(['variables.d']);
  });
});

describe('HTTP', () => {
  it('answers malformed JSON with 400', async () => {
    const res = await post('{"query": ');
    expect(res.status).toBe(400);
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await post('query { __typename }', 'application/xml');
    expect(res.status).toBe(415);
  });

  it('echoes a sent x-request-id and makes one otherwise', async () => {
    const sent = await post(JSON.stringify({ query: '{ __typename }' }), 'application/json', {
      'x-request-id': 'abc-123',
    });
    expect(sent.headers.get('x-request-id')).toBe('abc-123');
    const made = await post(JSON.stringify({ query: '{ __typename }' }));
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses multipart requests without a CSRF header', async () => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: '{ __typename }' }));
    form.append('map', '{}');
    const res = await fetch(`${t.url}/graphql`, { method: 'POST', body: form });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('FORBIDDEN');
  });

  it('/health says the process is up', async () => {
    const res = await fetch(`${t.url}/health`);
    expect(res.status).toBe(200);
  });

  it('/ready reports each dependency', async () => {
    const res = await fetch(`${t.url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ready: true,
      dependencies: { database: 'up', storage: 'up', search: 'up', events: 'disabled' },
    });
  });

  it('serves GraphiQL offline, with no third-party script', async () => {
    const res = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('GraphiQL');
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
  });
});

describe('request logs', () => {
  it('writes one JSON line per request with its request id', async () => {
    const { log, lines } = capturedLog();
    const logged = await startTestApp({}, { log });
    try {
      await fetch(`${logged.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'trace-42' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(lines).toContainEqual(
        expect.objectContaining({ requestId: 'trace-42', path: '/graphql', status: 200, msg: 'request' }),
      );
    } finally {
      await logged.stop();
    }
  });
});
