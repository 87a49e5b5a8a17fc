import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

describe('in production', () => {
  let off: TestApp;
  let on: TestApp;
  beforeAll(async () => {
    [off, on] = await Promise.all([
      startTestApp({ NODE_ENV: 'production' }),
      startTestApp({ NODE_ENV: 'production', GRAPHIQL: 'true' }),
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
});
