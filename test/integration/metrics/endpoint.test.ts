import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationNamer } from '../../../src/http/metrics-plugins.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { scrape, total } from '../../support/metrics.ts';

const TOKEN = 'metrics-token-0123456789';
const named = (name: string) => `query ${name}($id: ID!) { document(id: $id) { id } }`;

let t: TestApp;
let metricsUrl: string;
beforeAll(async () => {
  t = await startTestApp({ METRICS_PORT: '0', METRICS_TOKEN: TOKEN, METRICS_OPERATION_CAP: '2' });
  metricsUrl = t.app.metricsUrl!;
});
afterAll(() => t.stop());

describe('METRICS_PORT and METRICS_TOKEN', () => {
  it('serve /metrics on a port of its own, only with the bearer token', async () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metricsUrl).not.toBe(t.url);
    const open = await fetch(`${metricsUrl}/metrics`);
    expect(open.status).toBe(401);
    expect(open.headers.get('www-authenticate')).toBe('Bearer');
    await open.text();
    const wrong = await fetch(`${metricsUrl}/metrics`, {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    expect(wrong.status).toBe(401);
    await wrong.text();
    const res = await fetch(`${metricsUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toMatch(/^process_cpu_seconds_total \d/m);
    const other = await fetch(`${metricsUrl}/graphql`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(other.status).toBe(404);
    await other.text();
  });

  it('leave no /metrics on the public port', async () => {
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('process_cpu_seconds_total');
  });

  it('samples the dependency gauges at scrape time, without /ready being asked', async () => {
    const s = await scrape(metricsUrl, TOKEN);
    expect(total(s, 'dossier_database_up')).toBe(1);
    expect(total(s, 'dossier_search_engine_up')).toBe(1);
    expect(total(s, 'dossier_job_queue_depth', { queue: 'document-extract' })).toBe(0);
  });
});

describe('operationName label bound', () => {
  it('names past METRICS_OPERATION_CAP become `other`; names seen before keep their label', async () => {
    for (const name of ['One', 'Two', 'Three', 'Four', 'One']) {
      expect((await t.staff(named(name), { id: randomUUID() })).errors).toBeUndefined();
    }
    const s = await scrape(metricsUrl, TOKEN);
    const count = (operationName: string) => total(s, 'graphql_envelop_request', { operationName });
    expect(count('One')).toBe(2);
    expect(count('Two')).toBe(1);
    expect(count('other')).toBe(2);
    expect(count('Three')).toBeUndefined();
    expect(count('Four')).toBeUndefined();
  });

  it('with METRICS_KNOWN_OPERATIONS, names outside the list are `other`', async () => {
    const k = await startTestApp({ METRICS_KNOWN_OPERATIONS: 'Listed, AlsoListed' });
    try {
      for (const name of ['Listed', 'Unlisted', 'Listed']) {
        expect((await k.staff(named(name), { id: randomUUID() })).errors).toBeUndefined();
      }
      const denied = await k.gql(named('Stranger'), { id: randomUUID() });
      expect(denied.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const s = await scrape(k.url);
      const count = (operationName: string) => total(s, 'graphql_envelop_request', { operationName });
      expect(count('Listed')).toBe(2);
      expect(count('other')).toBe(2);
      expect(count('Unlisted')).toBeUndefined();
      expect(
        total(s, 'dossier_graphql_errors_total', { operationName: 'other', code: 'UNAUTHENTICATED' }),
      ).toBe(1);
      expect(total(s, 'dossier_graphql_errors_total', { operationName: 'Stranger' })).toBeUndefined();
    } finally {
      await k.stop();
    }
  });

  it('operationNamer: anonymous for no name, `other` for over-long names, a known list wins over the cap', () => {
    const capped = operationNamer(1, null);
    expect([capped(undefined), capped(''), capped('A'), capped('B'), capped('A')]).toEqual([
      'anonymous',
      'anonymous',
      'A',
      'other',
      'A',
    ]);
    expect(operationNamer(10, null)('X'.repeat(65))).toBe('other');
    const listed = operationNamer(0, ['A']);
    expect([listed('A'), listed('B'), listed(null)]).toEqual(['A', 'other', 'anonymous']);
  });
});
