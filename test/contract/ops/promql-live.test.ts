import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { utf8 } from '../../support/extraction-fixtures.ts';
import { contactInput } from '../../support/factories.ts';
import { type Sample, scrape, total } from '../../support/metrics.ts';
import { collectExpressions, externalMetrics, metricNames } from '../../support/promql.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
let samples: Sample[];

/** One of each kind of traffic, so every labelled series the operators' queries read has a sample. */
async function exercise() {
  const submitted = await multipart(
    t.url,
    SUBMIT_WITH_FILES,
    { input: contactInput(), attachments: [null] },
    [
      {
        path: 'variables.attachments.0',
        name: 'brief.txt',
        content: utf8('A short brief for the engine audit.'),
      },
    ],
  );
  expect(submitted.errors).toBeUndefined();
  const search = await t.staff('query Find { searchDocuments(query: "engine") { totalHits } }');
  expect(search.errors).toBeUndefined();
  expect(
    (await t.gql('query Denied { contact(id: "00000000-0000-4000-8000-000000000000") { id } }')).errors,
  ).toHaveLength(1);
  // A subscription over SSE, refused at once: it runs (and times) the subscribe phase and ends.
  const sse = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: 'subscription Watch { documentProcessed { id } }' }),
  });
  expect(await sse.text()).toContain('UNAUTHENTICATED');
  return waitFor(
    async () => {
      const s = await scrape(t.url);
      return total(s, 'dossier_extraction_duration_seconds_count') === 1 && s;
    },
    15_000,
    'the attachment to be extracted',
  );
}

beforeAll(async () => {
  t = await startTestApp({ NOTIFY_WAIT_SECONDS: '0' });
  samples = await exercise();
});
afterAll(() => t.stop());

describe('alert and dashboard expressions against the running app', () => {
  it('name only metrics that a scrape of the app returns samples for', () => {
    const exported = new Set(samples.map((s) => s.name));
    const expressions = collectExpressions();
    expect(expressions.length).toBeGreaterThan(10);
    const missing = expressions.flatMap(({ source, expr }) =>
      metricNames(expr)
        .filter((name) => !externalMetrics.includes(name) && !exported.has(name))
        .map((name) => `${source}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('find the series the alerts select by label', () => {
    expect(total(samples, 'dossier_rate_limited_total', { scope: 'global' })).toBe(0);
    expect(total(samples, 'dossier_emails_failed_total', { permanent: 'true' })).toBe(0);
    expect(
      total(samples, 'graphql_envelop_request_duration_bucket', { operationType: 'query' }),
    ).toBeGreaterThan(0);
    expect(
      total(samples, 'graphql_envelop_request_duration_bucket', { operationType: 'mutation' }),
    ).toBeGreaterThan(0);
    expect(total(samples, 'graphql_envelop_phase_subscribe_count', { operationName: 'Watch' })).toBe(1);
  });
});
