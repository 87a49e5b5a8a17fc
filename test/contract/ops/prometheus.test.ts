import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { type Proc, spawnUntil, stopProcess } from '../../support/processes.ts';
import { exporterMetrics } from '../../support/promql.ts';
import { waitFor } from '../../support/wait.ts';

const TOKEN = 'prometheus-scrape-token-0123';
const RUNS = 4;

let t: TestApp;
let dir: string;
let prometheus: Proc;
let prometheusUrl: string;

beforeAll(async () => {
  // Prometheus scrapes a fixed address, so the app's metrics port is chosen here; Prometheus starts first.
  const [appMetricsPort, port] = [await getPort(), await getPort()];
  dir = await mkdtemp(join(tmpdir(), 'dossier-prometheus-'));
  const target = `127.0.0.1:${appMetricsPort}`;
  // JSON is YAML: the scrape job as the stack's (bearer token, job "dossier"), scraped every second.
  // A rule group and an Alertmanager (none listening), so the self-health metrics exist.
  await writeFile(
    join(dir, 'probe.rules.yml'),
    JSON.stringify({ groups: [{ name: 'probe', rules: [{ record: 'probe:one', expr: 'vector(1)' }] }] }),
  );
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [join(dir, 'probe.rules.yml')],
    alerting: { alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:9'] }] }] },
    scrape_configs: [
      {
        job_name: 'dossier',
        authorization: { type: 'Bearer', credentials: TOKEN },
        static_configs: [{ targets: [target], labels: { role: 'app' } }],
      },
    ],
  };
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config));
  prometheusUrl = `http://127.0.0.1:${port}`;
  const args = [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ];
  const ready = /Server is ready to receive web requests/;
  prometheus = await spawnUntil('/usr/bin/prometheus', args, { PATH: process.env.PATH ?? '' }, ready);
  t = await startTestApp({ METRICS_PORT: String(appMetricsPort), METRICS_TOKEN: TOKEN });
  expect(t.app.metricsUrl).toBe(`http://${target}`);
});

afterAll(async () => {
  if (prometheus) await stopProcess(prometheus);
  await t?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An instant query's single value, or null while Prometheus has no sample. */
async function queryValue(promql: string): Promise<number | null> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
  expect(body.status).toBe('success');
  const [first] = body.data.result;
  return first ? Number(first.value[1]) : null;
}

describe('a real Prometheus scraping the app', () => {
  it('counts the named operations the app served', async () => {
    for (let i = 0; i < RUNS; i++) {
      const r = await t.staff(
        'query ScrapedOperation { document(id: "00000000-0000-4000-8000-000000000000") { id } }',
      );
      expect(r.data).toEqual({ document: null });
    }
    const promql = 'sum(graphql_envelop_request{job="dossier",operationName="ScrapedOperation"})';
    await waitFor(async () => (await queryValue(promql)) === RUNS, 15_000, `${promql} == ${RUNS}`).catch(
      async (err: Error) => {
        throw new Error(`${err.message}; last value ${await queryValue(promql)}\n${prometheus.output()}`);
      },
    );
    expect(await queryValue('up{job="dossier",role="app"}')).toBe(1);
    expect(await queryValue('dossier_database_up{job="dossier"}')).toBe(1);
  });

  it('serves its own metrics that the self-health alerts read', async () => {
    const text = await (await fetch(`${prometheusUrl}/metrics`)).text();
    const served = new Set([...text.matchAll(/^([a-zA-Z_:][\w:]*)[{ ]/gm)].map((m) => m[1]));
    const own = exporterMetrics.prometheus.filter((n) => n !== 'up');
    expect(own.filter((n) => !served.has(n))).toEqual([]);
  });
});
