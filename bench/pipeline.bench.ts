// Upload to documentProcessed (graphql-ws) for a 10-page PDF; then extraction pages/s beside pdftotext.
// Run: npm run bench:pipeline   (BENCH_SAMPLES=40; BENCH_EXTRACTION_RUNS=15 for bench/extraction.bench.ts)
import { spawn } from 'node:child_process';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { QUEUES } from '../src/services/jobs/queues.ts';
import {
  bench,
  fixed,
  makePdf,
  printTable,
  ROOT,
  STAFF_TOKEN,
  sleep,
  startDatabase,
  startServer,
  summarize,
  upload,
  verdict,
} from './support.ts';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 40);
const WARMUP = 3;
const PAGES = 10;
const SUBSCRIPTION = 'subscription { documentProcessed { id status insights { pageCount } } }';

interface Processed {
  id: string;
  status: string;
  insights: { pageCount: number | null } | null;
}

await bench(async () => {
  const pdf = await makePdf(PAGES);
  console.log(
    `Upload (HTTP multipart) until documentProcessed arrives over graphql-ws, ${PAGES}-page PDF (${fixed(pdf.length / 1e3)} kB), ` +
      `${SAMPLES} sequential samples after ${WARMUP} warm-up, a random 0-1 s pause between samples; ` +
      'server with its default single in-process worker.',
  );
  const db = await startDatabase();
  const databaseUrl = await db.create('pipeline');
  const server = await startServer(databaseUrl);
  const arrived = new Map<string, { at: number; doc: Processed }>();
  const waiters = new Map<string, () => void>();
  const client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${STAFF_TOKEN}` },
  });
  const subscribed = new Promise<void>((ok, fail) => {
    client.on('connected', () => ok());
    client.on('error', fail);
  });
  const unsubscribe = client.subscribe<{ documentProcessed: Processed }>(
    { query: SUBSCRIPTION },
    {
      next: ({ data, errors }) => {
        if (errors || !data) throw new Error(`subscription error: ${JSON.stringify(errors)}`);
        const doc = data.documentProcessed;
        arrived.set(doc.id, { at: performance.now(), doc });
        waiters.get(doc.id)?.();
      },
      error: (err) => console.error('subscription failed', err),
      complete: () => undefined,
    },
  );
  try {
    await subscribed;
    await sleep(200); // the subscribe message follows the connection ack
    const total: number[] = [];
    const ack: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      await sleep(Math.random() * 1000); // arrivals independent of the worker's polling phase
      const started = performance.now();
      const { doc, ms } = await upload(server.url, `report-${i}.pdf`, pdf.length, [pdf]);
      if (!arrived.has(doc.id)) {
        await new Promise<void>((ok, fail) => {
          const timer = setTimeout(
            () => fail(new Error(`no documentProcessed for ${doc.id} in 30 s`)),
            30_000,
          );
          waiters.set(doc.id, () => {
            clearTimeout(timer);
            ok();
          });
        });
      }
      const event = arrived.get(doc.id)!;
      if (event.doc.status !== 'COMPLETED' || event.doc.insights?.pageCount !== PAGES)
        throw new Error(`unexpected event ${JSON.stringify(event.doc)}`);
      if (i >= WARMUP) {
        ids.push(doc.id);
        total.push(event.at - started);
        ack.push(ms);
      }
    }
    const t = summarize(total);
    const a = summarize(ack);
    const processing = summarize(total.map((x, i) => x - ack[i]!));
    printTable(
      ['stage', 'p50 ms', 'p95 ms', 'max ms'],
      [
        ['upload acknowledged', fixed(a.p50), fixed(a.p95), fixed(a.max)],
        [
          'acknowledged -> documentProcessed',
          fixed(processing.p50),
          fixed(processing.p95),
          fixed(processing.max),
        ],
        ['upload -> documentProcessed', fixed(t.p50), fixed(t.p95), fixed(t.max)],
      ],
    );
    // The extraction jobs' own timestamps split the time after the acknowledgement: waiting in the queue, running.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ waited: number; ran: number }>(
      `select extract(epoch from started_on - created_on) * 1000 as waited,
              extract(epoch from completed_on - started_on) * 1000 as ran
       from pgboss.job where name = $1 and data->>'documentId' = any($2)`,
      [QUEUES.extract, ids],
    );
    await client.end();
    const waited = summarize(rows.map((r) => Number(r.waited)));
    const ran = summarize(rows.map((r) => Number(r.ran)));
    console.log(`\nThe extraction jobs (pgboss.job timestamps, ${rows.length} jobs):`);
    printTable(
      ['job', 'p50 ms', 'p95 ms', 'max ms'],
      [
        [
          'created -> started (waiting for the worker to poll)',
          fixed(waited.p50),
          fixed(waited.p95),
          fixed(waited.max),
        ],
        ['started -> completed (extract, save, publish)', fixed(ran.p50), fixed(ran.p95), fixed(ran.max)],
      ],
    );
    console.log('\nTarget');
    printTable(
      ['target', 'measured', 'verdict'],
      [['upload -> documentProcessed p95 <= 500 ms (10 pages)', `${fixed(t.p95)} ms`, verdict(t.p95 <= 500)]],
    );
  } finally {
    unsubscribe();
    await client.dispose();
    await server.stop();
  }

  // Extraction speed beside poppler's pdftotext on the same files: bench/extraction.bench.ts, after the server stopped.
  console.log('');
  const runs = process.env.BENCH_EXTRACTION_RUNS ?? '15';
  const child = spawn(process.execPath, ['bench/extraction.bench.ts', runs], { cwd: ROOT, stdio: 'inherit' });
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  if (code !== 0) throw new Error(`bench/extraction.bench.ts exited with ${code}`);
});
