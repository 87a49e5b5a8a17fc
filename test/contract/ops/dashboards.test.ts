import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../../support/ops-run.ts';

interface Panel {
  id: number;
  type: string;
  title: string;
  repeat?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  multi?: boolean;
  includeAll?: boolean;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dir = join(root, 'dashboards');
const dashboards = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, json: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard }));
const flat = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flat(p.panels ?? [])]);
const queryOf = (v: Variable) => (typeof v.query === 'string' ? v.query : v.query?.query);

describe('dashboards/*.json', () => {
  it('are distinct, current Grafana dashboards with unique panel ids inside the 24-column grid', () => {
    expect(dashboards.length).toBeGreaterThanOrEqual(4);
    expect(new Set(dashboards.map((d) => d.json.uid)).size).toBe(dashboards.length);
    for (const { file, json } of dashboards) {
      expect(json.title, file).toMatch(/^Dossier \/ /);
      expect(json.schemaVersion, file).toBeGreaterThanOrEqual(36);
      const panels = flat(json.panels);
      expect(new Set(panels.map((p) => p.id)).size, file).toBe(panels.length);
      for (const p of panels) {
        expect(p.gridPos.x + p.gridPos.w, `${file}: ${p.title}`).toBeLessThanOrEqual(24);
        if (p.type !== 'row')
          expect(p.targets?.length, `${file}: ${p.title} has no query`).toBeGreaterThan(0);
      }
      const variables = new Set(json.templating.list.map((v) => v.name));
      const text = JSON.stringify(json.panels);
      for (const used of text.matchAll(/\$\{?([a-z]\w*)/g))
        expect(variables.has(used[1]), `${file}: $${used[1]}`).toBe(true);
    }
  });

  it('template the GraphQL dashboard by operation, from the operationName label', () => {
    const graphql = dashboards.find((d) => d.json.uid === 'dossier-graphql')?.json;
    const operation = graphql?.templating.list.find((v) => v.name === 'operation');
    expect(operation?.type).toBe('query');
    expect(queryOf(operation as Variable)).toBe('label_values(graphql_envelop_request, operationName)');
    expect(operation?.multi && operation.includeAll).toBe(true);
    const panels = flat(graphql?.panels ?? []);
    const repeated = panels.find((p) => p.type === 'row' && p.repeat === 'operation');
    expect(repeated, 'a row repeated per operation').toBeDefined();
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    for (const metric of [
      'graphql_envelop_request{',
      'dossier_graphql_errors_total{',
      'graphql_envelop_request_duration_bucket{',
    ]) {
      expect(
        exprs.some((e) => e.includes(metric) && e.includes('operationName=~"$operation"')),
        metric,
      ).toBe(true);
    }
  });

  it('cover the pipeline, search, email, subscriptions, runtime, the host, containers, TLS and backups', () => {
    const all = dashboards.map((d) => JSON.stringify(d.json)).join('\n');
    for (const metric of [
      'dossier_uploads_total',
      'dossier_extraction_duration_seconds_bucket',
      'dossier_job_oldest_age_seconds',
      'dossier_search_duration_seconds_bucket',
      'dossier_emails_failed_total',
      'dossier_subscriptions_active',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'node_filesystem_avail_bytes',
      'node_memory_MemAvailable_bytes',
      'container_start_time_seconds',
      'container_memory_working_set_bytes',
      'probe_ssl_earliest_cert_expiry',
      'dossier_backup_last_success_timestamp_seconds',
    ]) {
      expect(all, metric).toContain(metric);
    }
  });
});
