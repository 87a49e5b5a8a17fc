import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';

describe('in production', () => {
  let off: TestApp;
  let on: TestApp;
  beforeAll(async () => {
    [off, on] = await Promise.all([
      startTestApp({ NODE_ENV: 'production' }),
      startTestApp({
        NODE_ENV: 'production',
        GRAPHIQL: 'true',
        METRICS_TOKEN: 'metrics-token-0123456789',
        CORS_ORIGINS: 'https://www.example.com, https://example.com',
      }),
    ]);
  });
  afterAll(() => Promise.all([off.stop(), on.stop()]));

  it('serves neither GraphiQL nor introspection unless enabled', async () => {
    const page = await fetch(`${off.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('GraphiQL');
    const r = await off.gql('{ __schema { types { name } } }');
    expect(r.errors?.[0]?.message).toMatch(/introspection/i);
    expect((await off.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('serves both with GRAPHIQL=true', async () => {
    const page = await fetch(`${on.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('GraphiQL');
    const r = await on.gql<{ __schema: { types: unknown[] } }>('{ __schema { types { name } } }');
    expect(r.data?.__schema.types.length).toBeGreaterThan(10);
  });

  it('keeps expected error codes unmasked', async () => {
    const r = await off.gql('query { document(id: "x") { id } }');
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers CORS only for CORS_ORIGINS, without credentials; none at all without the list', async () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/graphql`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const listed = await preflight(on.url, 'https://example.com');
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://example.com');
    expect(listed.headers.get('access-control-allow-credentials')).toBeNull();
    for (const [url, origin] of [
      [on.url, 'https://evil.example'],
      [off.url, 'https://example.com'],
    ] as const) {
      const res = await preflight(url, origin);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      await res.text();
    }
  });

  it('serves /metrics on the public port only with METRICS_TOKEN', async () => {
    const open = await fetch(`${off.url}/metrics`);
    expect(open.status).toBe(404);
    expect(await open.text()).not.toContain('process_cpu_seconds_total');
    const bare = await fetch(`${on.url}/metrics`);
    expect(bare.status).toBe(401);
    await bare.text();
    const scraped = await fetch(`${on.url}/metrics`, {
      headers: { authorization: 'Bearer metrics-token-0123456789' },
    });
    expect(await scraped.text()).toContain('process_cpu_seconds_total');
  });
});
