// Upload to documentProcessed (graphql-ws) for a 10-page PDF and for a 1-page scan (OCR); idle RSS with
// OCR on but unused; then extraction pages/s beside pdftotext and OCR pages/s beside tesseract.
// Run: npm run bench:pipeline   (BENCH_SAMPLES=40, BENCH_OCR_SAMPLES=10; BENCH_EXTRACTION_RUNS=15 and
// BENCH_OCR_RUNS=3 for bench/extraction.bench.ts and bench/ocr.bench.ts)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { QUEUES } from '../src/services/jobs/queues.ts';
import { makeScannedPdf } from '../test/support/extraction-fixtures.ts';
import { descendantPids } from '../test/support/proc.ts';
import {
  type BenchServer,
  bench,
  fixed,
  makePdf,
  median,
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
const SUBSCRIPTION = 'subscription { documentProcessed { id status error insights { pageCount ocr } } }';
const OCR_SAMPLES = Number(process.env.BENCH_OCR_SAMPLES ?? 10);
const OCR_IDLE_SECONDS = 10;
const IDLE_MS = 5000;
/** Start-up work (migrations, warm-up, first GC) settles before idle memory is sampled. */
const SETTLE_MS = 5000;
const SCAN_LINES = Array.from(
  { length: 30 },
  (_, i) => `Line ${i + 1} of the scanned brief: budget, schedule and milestones.`,
);

interface Processed {
  id: string;
  status: string;
  error: string | null;
  insights: { pageCount: number | null; ocr: boolean } | null;
}

/** documentProcessed events of one server over graphql-ws, and a way to wait for a document's. */
async function processedEvents(server: BenchServer) {
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
  await subscribed;
  await sleep(200); // the subscribe message follows the connection ack
  return {
    async next(id: string, timeoutMs: number) {
      if (!arrived.has(id)) {
        await new Promise<void>((ok, fail) => {
          const timer = setTimeout(
            () => fail(new Error(`no documentProcessed for ${id} in ${timeoutMs} ms`)),
            timeoutMs,
          );
          waiters.set(id, () => {
            clearTimeout(timer);
            ok();
          });
        });
      }
      return arrived.get(id)!;
    },
    async close() {
      unsubscribe();
      await client.dispose();
    },
  };
}

/** Sequential uploads of `file`, each timed until its documentProcessed event; samples after the warm-up. */
async function timeToProcessed(
  server: BenchServer,
  file: Buffer,
  opts: { samples: number; warmup: number; pages: number; ocr: boolean },
) {
  const events = await processedEvents(server);
  const total: number[] = [];
  const ack: number[] = [];
  const ids: string[] = [];
  try {
    for (let i = 0; i < opts.warmup + opts.samples; i++) {
      await sleep(Math.random() * 1000); // arrivals independent of the worker's polling phase
      const started = performance.now();
      const { doc, ms } = await upload(server.url, `report-${i}.pdf`, file.length, [file]);
      const event = await events.next(doc.id, 120_000);
      const insights = event.doc.insights;
      if (event.doc.status !== 'COMPLETED' || insights?.pageCount !== opts.pages || insights.ocr !== opts.ocr)
        throw new Error(`unexpected event ${JSON.stringify(event.doc)}`);
      if (i >= opts.warmup) {
        ids.push(doc.id);
        total.push(event.at - started);
        ack.push(ms);
      }
    }
  } finally {
    await events.close();
  }
  return { total, ack, ids };
}

/** Resident set of a process and all its descendants (the extraction and OCR processes), in KiB. */
function treeRssKb(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendantPids(pid)]) {
    try {
      total += Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return total;
}

/** The server's resident set (with its child processes when `tree`), sampled every 100 ms for `ms`: the median, in MB. */
async function idleRss(server: BenchServer, ms: number, tree = false): Promise<number> {
  const samples: number[] = [];
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100))
    samples.push(tree ? treeRssKb(server.pid) : server.memory().rssKb);
  return median(samples) / 1024;
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
  try {
    const { total, ack, ids } = await timeToProcessed(server, pdf, {
      samples: SAMPLES,
      warmup: WARMUP,
      pages: PAGES,
      ocr: false,
    });
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
    await server.stop();
  }

  // OCR: a 1-page scan end to end, and the idle memory of a server with OCR on but unused (and after use).
  console.log(
    `\nOCR: upload until documentProcessed for a 1-page scanned PDF (30 typed lines), ${OCR_SAMPLES} samples after 1 warm-up;` +
      ` idle RSS (median of ${IDLE_MS / 1000} s of samples) of a server with OCR off and one with OCR on (default), each fresh.`,
  );
  const scan = Buffer.from(await makeScannedPdf([{ scan: SCAN_LINES }]));
  const off = await startServer(await db.create('ocr_off'), { OCR_ENGINE: 'off' });
  await sleep(SETTLE_MS);
  const rssOff = await idleRss(off, IDLE_MS);
  await off.stop();
  // A generous page limit: on a loaded machine a page can take far longer than its usual second or two.
  const on = await startServer(await db.create('ocr_on'), {
    OCR_IDLE_SECONDS: String(OCR_IDLE_SECONDS),
    EXTRACTION_IDLE_SECONDS: String(OCR_IDLE_SECONDS),
    OCR_PAGE_TIMEOUT_MS: '120000',
  });
  try {
    await sleep(SETTLE_MS);
    const rssOn = await idleRss(on, IDLE_MS);
    const treeBefore = await idleRss(on, 1000, true);
    const { total } = await timeToProcessed(on, scan, {
      samples: OCR_SAMPLES,
      warmup: 1,
      pages: 1,
      ocr: true,
    });
    const treeBusy = await idleRss(on, 1000, true);
    await sleep(OCR_IDLE_SECONDS * 1000 + SETTLE_MS);
    const rssAfter = await idleRss(on, IDLE_MS);
    const treeAfter = await idleRss(on, 1000, true);
    const t = summarize(total);
    printTable(
      ['measure', 'value'],
      [
        ['upload -> documentProcessed, 1-page scan, p50 ms', fixed(t.p50)],
        ['upload -> documentProcessed, 1-page scan, p95 ms', fixed(t.p95)],
        ['idle RSS, OCR off, MB', fixed(rssOff)],
        ['idle RSS, OCR on and unused, MB', fixed(rssOn)],
        [`idle RSS ${OCR_IDLE_SECONDS} s after the last scan, MB`, fixed(rssAfter)],
        ['server + child processes before the first scan, MB', fixed(treeBefore)],
        ['server + child processes right after the scans (OCR engine loaded), MB', fixed(treeBusy)],
        [
          `server + child processes ${OCR_IDLE_SECONDS} s after the last scan (engine released), MB`,
          fixed(treeAfter),
        ],
      ],
    );
    const growth = rssOn - rssOff;
    console.log('\nTarget');
    printTable(
      ['target', 'measured', 'verdict'],
      [
        [
          'idle RSS with OCR on but unused, within 10 MB of OCR off',
          `${fixed(growth)} MB`,
          verdict(Math.abs(growth) <= 10),
        ],
      ],
    );
  } finally {
    await on.stop();
  }

  // Extraction and OCR speed beside poppler's pdftotext and tesseract, in child processes, after the servers stopped.
  for (const [script, runs] of [
    ['bench/extraction.bench.ts', process.env.BENCH_EXTRACTION_RUNS ?? '15'],
    ['bench/ocr.bench.ts', process.env.BENCH_OCR_RUNS ?? '3'],
  ] as const) {
    console.log('');
    const child = spawn(process.execPath, [script, runs], { cwd: ROOT, stdio: 'inherit' });
    const code = await new Promise<number | null>((ok) => child.once('exit', ok));
    if (code !== 0) throw new Error(`${script} exited with ${code}`);
  }
});
