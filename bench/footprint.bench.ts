// What Dossier costs to keep running: idle RSS and CPU, RSS after work, one scrape after a random-name attack,
// start-up time to /ready. Each server has the default configuration (its own embedded PostgreSQL).
// Run: npm run bench:footprint   (BENCH_ROUNDS=3, BENCH_IDLE_SECONDS=10)
import { randomBytes } from 'node:crypto';
import { parseMetrics } from '../test/support/metrics.ts';
import { descendantPids, processStat } from '../test/support/proc.ts';
import {
  type BenchServer,
  bench,
  fixed,
  makePdf,
  median,
  postGraphQL,
  printTable,
  sleep,
  startServer,
  upload,
  verdict,
} from './support.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const SUBMISSIONS = 1000;
const EXTRACTIONS = 50;
const ATTACK_REQUESTS = 300;
const IDLE_TARGET_MB = 150;
const SERIES_TARGET = 2000;

const SUBMIT = 'mutation Submit($input: ContactInput!) { submitContact(input: $input) { contact { id } } }';
const input = (i: number) => ({
  name: 'Ada Lovelace',
  email: `ada+${i}@example.com`,
  company: 'Analytical Engines Ltd',
  service: 'Audit',
  message: 'We would like a review of our engine designs before the spring exhibition.',
});
// In production /metrics is served only with a token (or on its own port).
const METRICS_TOKEN = 'bench-metrics-token-0123456789';
// The load phase sends more than the default per-client limit allows; everything else stays default.
const LIMITS = {
  RATE_LIMIT_PER_MINUTE: '100000000',
  RATE_LIMIT_GLOBAL_PER_MINUTE: '100000000',
  METRICS_TOKEN,
};

const mb = (kb: number) => fixed(kb / 1024);

/** CPU seconds of the server and of what it started (its embedded PostgreSQL, with the backends it reaped). */
function cpuSeconds(server: BenchServer) {
  const started = descendantPids(server.pid).map((pid) => processStat(pid));
  return {
    server: server.cpuSeconds(),
    postgres: started.reduce((sum, st) => sum + (st ? st.cpuSeconds + st.reapedCpuSeconds : 0), 0),
  };
}

async function idle(env: Record<string, string>) {
  const server = await startServer(null, env);
  try {
    // CPU while idle: from a few seconds after /ready (start-up's last work) to the RSS reading.
    const settle = Math.min(3, IDLE_SECONDS / 2);
    await sleep(settle * 1000);
    const before = cpuSeconds(server);
    await sleep((IDLE_SECONDS - settle) * 1000);
    const after = cpuSeconds(server);
    const perSecond = (s: number) => fixed((s * 1000) / (IDLE_SECONDS - settle), 1);
    return {
      startupMs: server.startupMs,
      rssMb: mb(server.memory().rssKb),
      cpuMsPerS: perSecond(after.server - before.server),
      pgCpuMsPerS: perSecond(after.postgres - before.postgres),
    };
  } finally {
    await server.stop();
  }
}

/** Runs `task` over `items` with at most `width` in flight. */
async function pool<T>(items: T[], width: number, task: (item: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
    }),
  );
}

async function scrape(server: BenchServer) {
  const headers = { authorization: `Bearer ${METRICS_TOKEN}` };
  const text = await (await fetch(`${server.url}/metrics`, { headers })).text();
  return { text, samples: parseMetrics(text) };
}

async function worked(pdf: Buffer) {
  const server = await startServer(null, LIMITS);
  try {
    await pool(
      Array.from({ length: SUBMISSIONS }, (_, i) => i),
      10,
      async (i) => {
        const r = await postGraphQL(server.url, SUBMIT, { input: input(i) });
        if (r.body.errors) throw new Error(`submitContact: ${JSON.stringify(r.body.errors)}`);
      },
    );
    await pool(
      Array.from({ length: EXTRACTIONS }, (_, i) => i),
      5,
      async (i) => {
        await upload(server.url, `brief-${i}.pdf`, pdf.length, [pdf]);
      },
    );
    const deadline = Date.now() + 300_000;
    for (;;) {
      const { samples } = await scrape(server);
      const done = samples
        .filter((s) => s.name === 'dossier_documents_processed_total')
        .reduce((sum, s) => sum + s.value, 0);
      if (done >= EXTRACTIONS) break;
      if (Date.now() > deadline) throw new Error(`only ${done} of ${EXTRACTIONS} documents processed`);
      await sleep(250);
    }
    await sleep(2000);
    const { rssKb, hwmKb } = server.memory();

    // The attack: operation names a client makes up, one request each, beyond any cap.
    await pool(
      Array.from({ length: ATTACK_REQUESTS }, (_, i) => i),
      10,
      async () => {
        await postGraphQL(server.url, `query Op${randomBytes(6).toString('hex')} { __typename }`);
      },
    );
    const { text, samples } = await scrape(server);
    return {
      rssMb: mb(rssKb),
      hwmMb: mb(hwmKb),
      series: samples.length,
      scrapeKb: fixed(text.length / 1024),
    };
  } finally {
    await server.stop();
  }
}

await bench(async () => {
  console.log(
    `Default configuration (own embedded PostgreSQL, NODE_ENV=production), ${ROUNDS} rounds, medians. ` +
      `Idle: RSS ${IDLE_SECONDS} s after /ready. Work: ${SUBMISSIONS} submissions, then ${EXTRACTIONS} ` +
      `5-page PDF uploads extracted; then ${ATTACK_REQUESTS} requests with random operation names and one scrape.`,
  );
  const pdf = await makePdf(5);
  const rounds: {
    def: Awaited<ReturnType<typeof idle>>;
    zero: Awaited<ReturnType<typeof idle>>;
    work: Awaited<ReturnType<typeof worked>>;
  }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const def = await idle({});
    const zero = await idle({ WORKERS: '0' });
    const work = await worked(pdf);
    rounds.push({ def, zero, work });
    console.log(`round ${r + 1}: ${JSON.stringify({ def, zero, work })}`);
  }
  const m = (pick: (x: (typeof rounds)[number]) => number) => fixed(median(rounds.map(pick)));
  const idleMb = m((x) => x.def.rssMb);
  const series = m((x) => x.work.series);
  console.log('');
  printTable(
    ['measure', 'median', 'target', ''],
    [
      ['idle RSS, default config (MB)', idleMb, `<= ${IDLE_TARGET_MB}`, verdict(idleMb <= IDLE_TARGET_MB)],
      ['idle RSS, WORKERS=0 (MB)', m((x) => x.zero.rssMb), '', ''],
      ['idle CPU, default config: server (ms per s)', m((x) => x.def.cpuMsPerS), '', ''],
      ['  its PostgreSQL (ms per s)', m((x) => x.def.pgCpuMsPerS), '', ''],
      ['idle CPU, WORKERS=0: server (ms per s)', m((x) => x.zero.cpuMsPerS), '', ''],
      ['  its PostgreSQL (ms per s)', m((x) => x.zero.pgCpuMsPerS), '', ''],
      [
        `RSS after ${SUBMISSIONS} submissions + ${EXTRACTIONS} extractions (MB)`,
        m((x) => x.work.rssMb),
        '',
        '',
      ],
      ['  peak RSS during that work (MB)', m((x) => x.work.hwmMb), '', ''],
      [
        'series in one scrape after the attack',
        series,
        `<= ${SERIES_TARGET}`,
        verdict(series <= SERIES_TARGET),
      ],
      ['  bytes of that scrape (KB)', m((x) => x.work.scrapeKb), '', ''],
      ['start-up to /ready, default config (ms)', m((x) => x.def.startupMs), '', ''],
      ['start-up to /ready, WORKERS=0 (ms)', m((x) => x.zero.startupMs), '', ''],
    ],
  );
});
