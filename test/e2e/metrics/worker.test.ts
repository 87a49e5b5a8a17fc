import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { utf8 } from '../../support/extraction-fixtures.ts';
import { scrape, total } from '../../support/metrics.ts';
import { dossierEnv, type Proc, startWorkerProcess, stopProcess } from '../../support/processes.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

const TOKEN = 'worker-metrics-token-0123';

let t: TestApp;
let worker: Proc;
let metricsUrl: string;

beforeAll(async () => {
  // The API takes no jobs here (WORKERS=0): every pipeline metric below comes from the worker process.
  t = await startTestApp({ WORKERS: '0' });
  worker = await startWorkerProcess(
    dossierEnv(t.databaseUrl, t.dataDir, { METRICS_PORT: '0', METRICS_TOKEN: TOKEN }),
  );
  const url = /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(worker.output())?.[1];
  if (!url) throw new Error(`the worker logged no metrics address:\n${worker.output()}`);
  metricsUrl = url;
});

afterAll(async () => {
  if (worker) await stopProcess(worker);
  await t?.stop();
});

describe('npm run worker', () => {
  it('serves /metrics on METRICS_PORT, behind METRICS_TOKEN', async () => {
    const open = await fetch(`${metricsUrl}/metrics`);
    expect(open.status).toBe(401);
    await open.text();
    const s = await scrape(metricsUrl, TOKEN);
    expect(total(s, 'dossier_database_up')).toBe(1);
    expect(total(s, 'dossier_job_queue_depth', { queue: 'document-extract' })).toBeGreaterThanOrEqual(0);
    expect(total(s, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('reports the pipeline work it does', async () => {
    const r = await multipart(
      t.url,
      UPLOAD,
      { file: null },
      [{ path: 'variables.file', name: 'notes.txt', content: utf8('Metrics from the worker process.') }],
      { staff: true },
    );
    expect(r.errors).toBeUndefined();
    const s = await waitFor(
      async () => {
        const samples = await scrape(metricsUrl, TOKEN);
        return total(samples, 'dossier_documents_processed_total', { status: 'COMPLETED' }) === 1 && samples;
      },
      15_000,
      'the worker to process the document',
    );
    expect(total(s, 'dossier_extraction_duration_seconds_count', { type: 'text/plain' })).toBe(1);
    const api = await scrape(t.url);
    expect(total(api, 'dossier_documents_processed_total', { status: 'COMPLETED' })).toBe(0);
    expect(total(api, 'dossier_uploads_total')).toBe(1);
  });
});
