import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import { scrape, select, total } from '../../support/metrics.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const FIND = 'query FindDocument($id: ID!) { document(id: $id) { id } }';
const twoOps = (first: string, second: string) =>
  `query ${first} { document(id: "x") { id } } query ${second}($id: ID!) { document(id: $id) { id } }`;
const noId = () => ({ id: randomUUID() });

/** A GraphQL POST with an explicit operationName, which the test support's helpers do not send. */
async function post(body: Record<string, unknown>, staff = true) {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(staff ? { authorization: `Bearer ${STAFF_TOKEN}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
}

function wsClient() {
  return createClient({
    url: `${t.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${STAFF_TOKEN}` },
    retryAttempts: 0,
  });
}

describe('per-operation metrics', () => {
  it('counts each named operation and times the whole operation and each phase', async () => {
    for (let i = 0; i < 3; i++) expect((await t.staff(FIND, noId())).data).toEqual({ document: null });
    for (let i = 0; i < 2; i++)
      expect((await t.gql(SUBMIT, { input: contactInput() })).errors).toBeUndefined();
    const s = await scrape(t.url);
    const find = { operationName: 'FindDocument', operationType: 'query' };
    const submit = { operationName: 'Submit', operationType: 'mutation' };
    expect(total(s, 'graphql_envelop_request', find)).toBe(3);
    expect(total(s, 'graphql_envelop_request', submit)).toBe(2);
    expect(total(s, 'graphql_envelop_request_duration_count', find)).toBe(3);
    expect(total(s, 'graphql_envelop_request_duration_bucket', { ...find, le: '+Inf' })).toBe(3);
    expect(total(s, 'graphql_envelop_request_duration_count', submit)).toBe(2);
    // A mutation writes rows and a job in a transaction: measurably more than 0 s.
    expect(total(s, 'graphql_envelop_request_duration_sum', submit)).toBeGreaterThan(0);
    for (const phase of ['parse', 'validate', 'context', 'execute']) {
      expect(total(s, `graphql_envelop_phase_${phase}_count`, find), phase).toBe(3);
    }
    expect(total(s, 'graphql_yoga_http_duration_count', { ...find, method: 'POST', statusCode: '200' })).toBe(
      3,
    );
    const buckets = select(s, 'graphql_envelop_request_duration_bucket', find).map((b) => b.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  it('labels anonymous operations `anonymous`, never the plugin default `Anonymous`', async () => {
    await t.staff('{ document(id: "00000000-0000-4000-8000-000000000000") { id } }');
    const s = await scrape(t.url);
    expect(total(s, 'graphql_envelop_request', { operationName: 'anonymous', operationType: 'query' })).toBe(
      1,
    );
    expect(s.filter((x) => x.labels.operationName === 'Anonymous')).toEqual([]);
  });

  it('labels the operation the request names in a document with several', async () => {
    const r = await post({ query: twoOps('First', 'Second'), operationName: 'Second', variables: noId() });
    expect(r).toEqual({ data: { document: null } });
    const s = await scrape(t.url);
    expect(total(s, 'graphql_envelop_request', { operationName: 'Second', operationType: 'query' })).toBe(1);
    expect(total(s, 'graphql_envelop_request', { operationName: 'First' })).toBeUndefined();
  });

  it('counts errors by extensions.code, named by operation, including parse and validation failures', async () => {
    const denied = await post(
      { query: 'query Secret($id: ID!) { document(id: $id) { id } }', variables: noId() },
      false,
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const bad = await t.gql(SUBMIT, { input: contactInput({ email: 'not-an-address' }) });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Twice: the second one comes from Yoga's validation cache and must count too.
    for (let i = 0; i < 2; i++) expect((await t.staff('query Broken { nope }')).status).toBe(400);
    expect((await t.staff('query Cut {')).status).toBe(400);

    const s = await scrape(t.url);
    const errors = (operationName: string, operationType: string, code: string) =>
      total(s, 'dossier_graphql_errors_total', { operationName, operationType, code });
    expect(errors('Secret', 'query', 'UNAUTHENTICATED')).toBe(1);
    expect(errors('Submit', 'mutation', 'BAD_USER_INPUT')).toBe(1);
    expect(errors('Broken', 'query', 'GRAPHQL_VALIDATION_FAILED')).toBe(2);
    expect(errors('anonymous', 'unknown', 'GRAPHQL_PARSE_FAILED')).toBe(1);
    expect(
      total(s, 'graphql_envelop_error_result', {
        operationName: 'Secret',
        operationType: 'query',
        phase: 'execute',
      }),
    ).toBe(1);
    // A refused operation still ran: it is a request too, so error ratios have a denominator.
    expect(total(s, 'graphql_envelop_request', { operationName: 'Secret' })).toBe(1);
    expect(total(s, 'graphql_envelop_request', { operationName: 'Broken' })).toBeUndefined();
  });
});

describe('operations over WebSocket', () => {
  it('are counted and timed like HTTP ones, by the operation they name', async () => {
    const client = wsClient();
    const run = (payload: { query: string; operationName?: string; variables?: Record<string, unknown> }) =>
      new Promise<unknown[]>((ok, fail) => {
        const out: unknown[] = [];
        client.subscribe(payload, { next: (v) => out.push(v), error: fail, complete: () => ok(out) });
      });
    try {
      expect(
        await run({ query: 'query OverSocket($id: ID!) { document(id: $id) { id } }', variables: noId() }),
      ).toEqual([{ data: { document: null } }]);
      expect(await run({ query: twoOps('Alpha', 'Beta'), operationName: 'Beta', variables: noId() })).toEqual(
        [{ data: { document: null } }],
      );
      // A subscription is counted when it ends.
      const dispose = client.subscribe(
        { query: 'subscription Watch { documentProcessed { id } }' },
        { next: () => undefined, error: () => undefined, complete: () => undefined },
      );
      await waitFor(
        async () => total(await scrape(t.url), 'dossier_subscriptions_active', { transport: 'ws' }) === 1,
      );
      dispose();
      const s = await waitFor(async () => {
        const samples = await scrape(t.url);
        return total(samples, 'graphql_envelop_request', { operationName: 'Watch' }) === 1 && samples;
      }, 5000);
      const over = { operationName: 'OverSocket', operationType: 'query' };
      expect(total(s, 'graphql_envelop_request', over)).toBe(1);
      expect(total(s, 'graphql_envelop_request_duration_count', over)).toBe(1);
      expect(total(s, 'graphql_envelop_phase_execute_count', over)).toBe(1);
      expect(total(s, 'graphql_envelop_request', { operationName: 'Beta', operationType: 'query' })).toBe(1);
      expect(total(s, 'graphql_envelop_request', { operationName: 'Alpha' })).toBeUndefined();
      const watch = { operationName: 'Watch', operationType: 'subscription' };
      expect(total(s, 'graphql_envelop_request', watch)).toBe(1);
      expect(total(s, 'graphql_envelop_phase_subscribe_count', watch)).toBe(1);
      // The HTTP histogram only sees HTTP requests.
      expect(total(s, 'graphql_yoga_http_duration_count', over)).toBeUndefined();
    } finally {
      await client.dispose();
    }
  });
});

describe('series volume', () => {
  it('stays bounded when clients make up operation names, and names past the cap count as `other`', async () => {
    const names = Array.from({ length: 300 }, () => `Op${randomUUID().replaceAll('-', '')}`);
    for (let i = 0; i < names.length; i += 30)
      await Promise.all(names.slice(i, i + 30).map((n) => post({ query: `query ${n} { __typename }` })));
    const s = await scrape(t.url);
    expect(s.length).toBeLessThanOrEqual(2000);
    const queries = select(s, 'graphql_envelop_request', { operationType: 'query' });
    const labelled = new Set(queries.map((x) => x.labels.operationName));
    expect(labelled.has('other')).toBe(true);
    expect(names.filter((n) => labelled.has(n)).length).toBeGreaterThan(0);
    // Every query the dashboards template by keeps its phase histograms.
    for (const name of labelled)
      expect(
        select(s, 'graphql_envelop_phase_execute_bucket', { operationName: name }).length,
        name,
      ).toBeGreaterThan(0);
  });
});
