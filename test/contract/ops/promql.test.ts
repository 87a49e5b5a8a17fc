import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../support/ops-run.ts';
import {
  collectExpressions,
  externalMetrics,
  metricNames,
  substituteVariables,
} from '../../support/promql.ts';

// The metrics the app documents (Operations issue); histograms also expose _bucket, _sum and _count.
const counters = [
  'graphql_envelop_request',
  'graphql_envelop_error_result',
  'dossier_graphql_errors_total',
  'dossier_contacts_total',
  'dossier_honeypot_total',
  'dossier_rate_limited_total',
  'dossier_uploads_total',
  'dossier_upload_bytes_total',
  'dossier_uploads_refused_total',
  'dossier_extraction_failures_total',
  'dossier_documents_processed_total',
  'dossier_search_zero_hits_total',
  'dossier_search_stale_hits_dropped_total',
  'dossier_emails_sent_total',
  'dossier_emails_failed_total',
  'dossier_auth_denials_total',
  'process_cpu_seconds_total',
];
const gauges = [
  'dossier_job_queue_depth',
  'dossier_job_oldest_age_seconds',
  'dossier_search_engine_up',
  'dossier_index_drift_documents',
  'dossier_subscriptions_active',
  'dossier_database_up',
  'process_resident_memory_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_eventloop_lag_p99_seconds',
];
const histograms = [
  'graphql_envelop_request_duration',
  'graphql_envelop_phase_parse',
  'graphql_envelop_phase_validate',
  'graphql_envelop_phase_context',
  'graphql_envelop_phase_execute',
  'graphql_envelop_phase_subscribe',
  'graphql_yoga_http_duration',
  'dossier_extraction_duration_seconds',
  'dossier_search_duration_seconds',
];
const known = new Set([
  ...counters,
  ...gauges,
  ...histograms.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
  ...externalMetrics,
]);

const expressions = collectExpressions();
const tmp = mkdtempSync(join(tmpdir(), 'dossier-promql-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('metricNames', () => {
  it.each([
    ['up{job="dossier"} == 0', ['up']],
    ['absent(up{job="dossier"})', ['up']],
    [
      'histogram_quantile(0.95, sum by (operationName, le) (rate(graphql_envelop_request_duration_bucket{operationType="query"}[5m]))) > 0.5',
      ['graphql_envelop_request_duration_bucket'],
    ],
    [
      'sum(rate(a_total{code!~"X|Y"}[5m])) / sum(rate(b_total[5m] offset 1h)) > 0.05 and on (op) sum by (op) (c) > 1e3',
      ['a_total', 'b_total', 'c'],
    ],
    ['process_resident_memory_bytes{job="dossier"} > 1.5 * 1024 * 1024', ['process_resident_memory_bytes']],
    [
      'max without (instance) (nodejs_eventloop_lag_p99_seconds) > bool 0.5',
      ['nodejs_eventloop_lag_p99_seconds'],
    ],
    ['sum(x) by (le) unless ignoring(a) group_left(b) y', ['x', 'y']],
    ['rate(m:recorded:rate5m[1m:10s])', ['m:recorded:rate5m']],
  ])('reads %s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe('substituteVariables', () => {
  it('fills in the Grafana variables and refuses unknown ones', () => {
    expect(substituteVariables('rate(x{operationName=~"$operation"}[$__rate_interval])')).toBe(
      'rate(x{operationName=~"SubmitContact"}[1m])',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${name} variable syntax, on purpose.
    expect(substituteVariables('x{instance=~"${instance}"}')).toBe('x{instance=~"app:9464"}');
    expect(() => substituteVariables('x{a="$nope"}')).toThrow(/nope/);
  });
});

describe('alert and dashboard expressions', () => {
  it('are collected from every alert and every dashboard, with unique sources', () => {
    const sources = expressions.map((e) => e.source);
    expect(new Set(sources).size).toBe(sources.length);
    for (const prefix of [
      'alerts/dossier.rules.yml#DossierInstanceDown',
      'dashboards/dossier-graphql.json#',
      'dashboards/dossier-pipeline.json#',
      'dashboards/dossier-search.json#',
      'dashboards/dossier-runtime.json#',
      'dashboards/dossier-graphql.json#variable operation',
    ]) {
      expect(
        sources.some((s) => s.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    for (const { source, expr } of expressions) expect(expr, source).not.toMatch(/\$|\[\[/);
  });

  it('all parse (checked by promtool as recording rules)', () => {
    const file = join(tmp, 'expressions.rules.yml');
    const groups = expressions.map((e, i) => ({
      name: e.source,
      rules: [{ record: `ops_check:expr_${i}`, expr: e.expr }],
    }));
    writeFileSync(file, JSON.stringify({ groups }));
    const { status, output } = run('promtool', ['check', 'rules', file]);
    expect(output).toContain(`SUCCESS: ${expressions.length} rules found`);
    expect(status).toBe(0);
  });

  it('read only metrics the app documents, plus those of the exporters (support/promql.ts)', () => {
    const unknown = expressions.flatMap(({ source, expr }) =>
      metricNames(expr)
        .filter((name) => !known.has(name))
        .map((name) => `${source}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('use every documented metric somewhere (a histogram through _bucket or _count)', () => {
    const used = new Set(expressions.flatMap((e) => metricNames(e.expr)));
    const unused = [
      ...[...counters, ...gauges].filter((name) => !used.has(name)),
      ...histograms.filter((h) => !used.has(`${h}_bucket`) && !used.has(`${h}_count`)),
    ];
    expect(unused).toEqual([]);
  });
});
