import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYamlFiles } from './yaml.ts';

/** One PromQL expression of the operations assets and where it comes from. */
export interface PromExpression {
  /** `alerts/<file>#<alert>` or `dashboards/<file>#<panel title>/<refId>` (or `/variable <name>`). */
  source: string;
  expr: string;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Values given to the dashboards' Grafana variables so their queries become plain PromQL. */
export const dashboardSamples: Readonly<Record<string, string>> = {
  operation: 'SubmitContact',
  instance: 'app:9464',
  datasource: 'prometheus',
  __rate_interval: '1m',
  __interval: '1m',
  __range: '1h',
};

/** Metrics the expressions may use that the app does not export, by who exports them. */
export const exporterMetrics = {
  prometheus: [
    'up',
    'prometheus_rule_evaluation_failures_total',
    'prometheus_config_last_reload_successful',
    'prometheus_notifications_alertmanagers_discovered',
  ],
  alertmanager: ['alertmanager_notifications_failed_total', 'alertmanager_config_last_reload_successful'],
  blackbox: ['probe_success', 'probe_ssl_earliest_cert_expiry'],
  node: [
    'node_filesystem_avail_bytes',
    'node_filesystem_size_bytes',
    'node_filesystem_readonly',
    'node_memory_MemAvailable_bytes',
    'node_memory_MemTotal_bytes',
    'node_cpu_seconds_total',
    'node_load1',
  ],
  cadvisor: [
    'container_start_time_seconds',
    'container_cpu_usage_seconds_total',
    'container_memory_working_set_bytes',
  ],
  // Written by the backup service into node-exporter's textfile directory.
  backup: ['dossier_backup_last_success_timestamp_seconds'],
} as const satisfies Record<string, readonly string[]>;

export const externalMetrics: readonly string[] = Object.values(exporterMetrics).flat();

/** Replaces `$name`, `${name}` and `[[name]]` with the sample values; an unknown variable throws. */
export function substituteVariables(expr: string): string {
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g,
    (match, a?: string, b?: string, c?: string) => {
      const name = a ?? b ?? c ?? '';
      const value = dashboardSamples[name];
      if (value === undefined) throw new Error(`unknown dashboard variable ${match} in: ${expr}`);
      return value;
    },
  );
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string };
}

interface Panel {
  title?: string;
  type?: string;
  datasource?: { type?: string };
  targets?: Target[];
  panels?: Panel[];
}

interface Dashboard {
  panels?: Panel[];
  templating?: { list?: { name: string; type: string; query?: string | { query?: string } }[] };
}

function alertExpressions(): PromExpression[] {
  const dir = join(root, 'alerts');
  const files = readdirSync(dir).filter((f) => f.endsWith('.rules.yml'));
  const docs = loadYamlFiles(files.map((f) => join(dir, f))) as RuleFile[];
  return docs.flatMap((doc, i) =>
    doc.groups.flatMap((group) =>
      group.rules.map((rule) => ({
        source: `alerts/${files[i]}#${rule.alert ?? rule.record}`,
        expr: rule.expr.trim(),
      })),
    ),
  );
}

function panelExpressions(file: string, panels: Panel[]): PromExpression[] {
  return panels.flatMap((panel) => [
    ...(panel.targets ?? [])
      .filter((t) => t.expr && (t.datasource ?? panel.datasource)?.type !== 'loki')
      .map((t) => ({
        source: `dashboards/${file}#${panel.title}/${t.refId}`,
        expr: substituteVariables(t.expr ?? ''),
      })),
    ...panelExpressions(file, panel.panels ?? []),
  ]);
}

// label_values(<selector>, <label>) and query_result(<expr>) wrap PromQL; other variable kinds have none.
function variableExpressions(file: string, dashboard: Dashboard): PromExpression[] {
  return (dashboard.templating?.list ?? [])
    .filter((v) => v.type === 'query')
    .flatMap((v) => {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const inner = /^\s*(?:label_values\((.+),\s*\w+\s*\)|query_result\((.+)\))\s*$/s.exec(query);
      const expr = inner?.[1] ?? inner?.[2];
      return expr
        ? [{ source: `dashboards/${file}#variable ${v.name}`, expr: substituteVariables(expr) }]
        : [];
    });
}

function dashboardExpressions(): PromExpression[] {
  const dir = join(root, 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard;
      return [...variableExpressions(file, dashboard), ...panelExpressions(file, dashboard.panels ?? [])];
    });
}

/** Every PromQL expression of alerts/*.rules.yml and dashboards/*.json, dashboard variables substituted. */
export function collectExpressions(): PromExpression[] {
  return [...alertExpressions(), ...dashboardExpressions()];
}

const keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
  'start',
  'end',
  'atan2',
]);

/**
 * Metric names an expression reads, sorted and unique. A lexical scan, enough for the expressions here:
 * strings, label matchers, ranges, grouping label lists, numbers and durations are removed first; what
 * remains is an identifier that is neither a keyword nor called like a function.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#.*$/gm, '')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/(^|[^\w:])\d[\w.]*(?:[eE][+-]\d+)?/g, '$1');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const rest = stripped.slice((match.index ?? 0) + match[0].length);
    if (keywords.has(match[0].toLowerCase()) || /^\s*\(/.test(rest)) continue;
    names.add(match[0]);
  }
  return [...names].sort();
}
