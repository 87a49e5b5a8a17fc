// submitContact under sustained load beside `{ __typename }` on the same server, with metrics on and off,
// and with the SES endpoint slow or down. Every configuration runs in each round, so noise hits them alike.
// Run: npm run bench:contact   (BENCH_SECONDS=20 per phase, BENCH_ROUNDS=3, BENCH_CONNECTIONS=50)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import getPort from 'get-port';
import pg from 'pg';
import {
  type BenchDatabase,
  type BenchServer,
  bench,
  fixed,
  graphqlLoad,
  median,
  postGraphQL,
  printTable,
  sleep,
  startDatabase,
  startServer,
  summarize,
  verdict,
} from './support.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP_SECONDS = Math.min(5, SECONDS);
/** Open-loop rates: the target throughput, half and a quarter of it. */
const TARGET_RATE = 1500;
const RATES = [TARGET_RATE / 4, TARGET_RATE / 2, TARGET_RATE];
const DRAIN_SECONDS = 10;

const TYPENAME = JSON.stringify({ query: '{ __typename }' });
const SUBMIT_QUERY =
  'mutation Submit($input: ContactInput!) { submitContact(input: $input) { contact { id } } }';
const SUBMIT_INPUT = {
  name: 'Ada Lovelace',
  email: 'ada+[<id>]@example.com',
  company: 'Analytical Engines Ltd',
  service: 'Audit',
  message: 'We would like a review of our engine designs before the spring exhibition.',
};
// `[<id>]` is replaced by autocannon with a fresh id per request: every submission has its own email.
const SUBMIT = JSON.stringify({ query: SUBMIT_QUERY, variables: { input: SUBMIT_INPUT } });

// The honeypot field filled: the same request, validated and rate-limited, answered with a decoy and no writes.
const HONEYPOT = SUBMIT.replace('"message":', '"fax":"+1 555 0100","message":');

interface Phase {
  reqPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
  /** CPU per request, in ms: the server (all threads), PostgreSQL, this load generator. */
  serverCpu: number;
  pgCpu: number;
  loadCpu: number;
}

interface Target {
  name: string;
  server: BenchServer;
  databaseUrl: string;
}

async function run(db: BenchDatabase, server: BenchServer, body: string, seconds: number): Promise<Phase> {
  const {
    result: r,
    ok,
    ...cpu
  } = await graphqlLoad(server, db, body, { connections: CONNECTIONS, seconds });
  const perRequest = (cpuSeconds: number) => (cpuSeconds * 1000) / r.requests.total;
  return {
    reqPerSec: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok,
    failed: r.requests.total - ok + r.errors + r.timeouts,
    serverCpu: perRequest(cpu.serverCpuSeconds),
    pgCpu: perRequest(cpu.pgCpuSeconds),
    loadCpu: perRequest(cpu.loadCpuSeconds),
  };
}

/**
 * Open-loop load: `rate` submissions a second on a fixed schedule, whatever the answers do; each latency counts
 * from its scheduled time, so queueing behind a slow answer is not hidden (no coordinated omission).
 */
async function paced(
  db: BenchDatabase,
  server: BenchServer,
  rate: number,
  seconds: number,
  what: 'submitContact' | '__typename',
): Promise<Phase> {
  const before = [server.cpuSeconds(), db.cpuSeconds(), process.cpuUsage()] as const;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let failed = 0;
  const start = performance.now();
  const total = Math.round(rate * seconds);
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const scheduled = start + (sent * 1000) / rate;
      const input = { ...SUBMIT_INPUT, email: `paced+${sent}-${start}@example.com` };
      const request =
        what === '__typename'
          ? postGraphQL(server.url, '{ __typename }')
          : postGraphQL(server.url, SUBMIT_QUERY, { input });
      pending.push(
        request.then(
          ({ body }) => {
            if (body.errors || !body.data) failed++;
            else latencies.push(performance.now() - scheduled);
          },
          () => {
            failed++;
          },
        ),
      );
    }
    await sleep(1);
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  const own = process.cpuUsage(before[2]);
  const perRequest = (cpuSeconds: number) => (cpuSeconds * 1000) / total;
  const s = summarize(latencies);
  return {
    reqPerSec: latencies.length / elapsed,
    p50: fixed(s.p50),
    p99: fixed(s.p99),
    ok: latencies.length,
    failed,
    serverCpu: perRequest(server.cpuSeconds() - before[0]),
    pgCpu: perRequest(db.cpuSeconds() - before[1]),
    loadCpu: perRequest((own.user + own.system) / 1e6),
  };
}

async function query<T>(databaseUrl: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** An SES endpoint that answers every SendRawEmail correctly, after `delayMs`. */
async function slowSes(delayMs: number) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          '<SendRawEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendRawEmailResult>' +
            `<MessageId>bench-${Date.now()}</MessageId></SendRawEmailResult>` +
            '<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></SendRawEmailResponse>',
        );
      }, delayMs),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

await bench(async () => {
  console.log(
    `submitContact load: autocannon in this process, ${CONNECTIONS} connections, ${SECONDS} s per phase, ${ROUNDS} rounds ` +
      `(medians over rounds below), ${WARMUP_SECONDS} s warm-up per server; rate limits raised; a unique email per request.`,
  );
  console.log(
    'Servers: node src/main.ts child processes (NODE_ENV=production, disk store, the default single in-process worker), ' +
      'one database each in one embedded PostgreSQL.\n',
  );
  const db = await startDatabase();
  const ses = await slowSes(2000);
  const refused = `http://127.0.0.1:${await getPort()}`;
  const limits = { RATE_LIMIT_PER_MINUTE: '100000000', RATE_LIMIT_GLOBAL_PER_MINUTE: '100000000' };
  const configs: [string, Record<string, string>][] = [
    ['metrics on', {}],
    ['metrics off', { METRICS: 'false' }],
    ['SES 2 s slow', { SES_REGION: 'eu-west-1', SES_ENDPOINT: ses.url }],
    ['SES refusing', { SES_REGION: 'eu-west-1', SES_ENDPOINT: refused }],
  ];
  const targets: Target[] = [];
  // Only the server being measured runs: the others are paused, so their mail backlogs drain on their own time.
  const focus = (server: BenchServer) => {
    for (const t of targets) if (t.server !== server) t.server.pause();
    server.resume();
  };
  try {
    // Open-loop latency first, on a fresh server and database: its only background work is this load's
    // own mail, and PostgreSQL has no checkpoint or vacuum debt from the saturation rounds yet.
    const early = new Map<string, Phase[]>();
    const databaseUrl = await db.create('paced');
    const fresh = await startServer(databaseUrl, limits);
    targets.push({ name: 'paced (fresh)', server: fresh, databaseUrl });
    await paced(db, fresh, RATES[0]!, WARMUP_SECONDS, 'submitContact');
    await run(db, fresh, TYPENAME, 2);
    // The latency floor of this harness and machine: the cheapest request at the target rate.
    const floor = `fresh server: { __typename }, paced at ${TARGET_RATE}/s`;
    early.set(floor, [await paced(db, fresh, TARGET_RATE, SECONDS, '__typename')]);
    const steady = RATES.map((rate) => `fresh server: submitContact, paced at ${rate}/s`);
    for (const [i, rate] of RATES.entries())
      early.set(steady[i]!, [await paced(db, fresh, rate, SECONDS, 'submitContact')]);
    for (const [name, env] of configs) {
      const databaseUrl = await db.create(name.replace(/\W+/g, '_'));
      for (const t of targets) t.server.pause();
      const server = await startServer(databaseUrl, { ...limits, ...env });
      targets.push({ name, server, databaseUrl });
      await run(db, server, SUBMIT, WARMUP_SECONDS);
      await run(db, server, TYPENAME, 2);
    }
    const [on, off, slow, down] = targets.slice(-4) as [Target, Target, Target, Target];
    const plan: [string, Target, string][] = [
      ['metrics on: { __typename }', on, TYPENAME],
      ['metrics on: submitContact', on, SUBMIT],
      ['metrics off: { __typename }', off, TYPENAME],
      ['metrics off: submitContact', off, SUBMIT],
      ['SES 2 s slow: submitContact', slow, SUBMIT],
      ['SES refusing: submitContact', down, SUBMIT],
    ];
    const results = new Map<string, Phase[]>([
      ...plan.map(([label]): [string, Phase[]] => [label, []]),
      ...early,
    ]);
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so that no configuration always runs first or last.
      for (let i = 0; i < plan.length; i++) {
        const [label, target, body] = plan[(i + round) % plan.length]!;
        focus(target.server);
        results.get(label)!.push(await run(db, target.server, body, SECONDS));
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
    const at = (label: string) => results.get(label)!;
    const med = (label: string, f: (p: Phase) => number) => median(at(label).map(f));
    // Once each, to explain the figures: the request without its writes, and latency below saturation.
    const honeypot = 'metrics on: submitContact, honeypot (no writes)';
    focus(on.server);
    results.set(honeypot, [await run(db, on.server, HONEYPOT, SECONDS)]);

    // How fast the mail backlog drains with no load at all: emails a second and their CPU cost. The
    // saturation rounds left PostgreSQL vacuum and checkpoint work that would be counted too: do it first.
    on.server.pause();
    for (const t of targets) await query(t.databaseUrl, 'vacuum analyze');
    await query(on.databaseUrl, 'checkpoint');
    on.server.resume();
    const drainSent = () =>
      query<{ sent: string }>(
        on.databaseUrl,
        `select count(*) as sent from contacts where notification_status = 'SENT'`,
      ).then(([row]) => Number(row!.sent));
    const drainBefore = [await drainSent(), on.server.cpuSeconds(), db.cpuSeconds(), performance.now()];
    await sleep(DRAIN_SECONDS * 1000);
    const drained = (await drainSent()) - drainBefore[0]!;
    const drain = {
      perSecond: drained / ((performance.now() - drainBefore[3]!) / 1000),
      serverCpu: ((on.server.cpuSeconds() - drainBefore[1]!) * 1000) / drained,
      pgCpu: ((db.cpuSeconds() - drainBefore[2]!) * 1000) / drained,
    };

    const labels = [...plan.map(([label]) => label), honeypot, floor, ...steady];

    console.log('');
    printTable(
      [
        'phase',
        'ok req/s',
        'p50 ms',
        'p99 ms',
        'answered',
        'failed',
        'CPU ms/req: server',
        'postgres',
        'load generator',
      ],
      labels.map((label) => [
        label,
        Math.round(med(label, (p) => p.reqPerSec)),
        med(label, (p) => p.p50),
        med(label, (p) => p.p99),
        at(label).reduce((n, p) => n + p.ok, 0),
        at(label).reduce((n, p) => n + p.failed, 0),
        fixed(
          med(label, (p) => p.serverCpu),
          2,
        ),
        fixed(
          med(label, (p) => p.pgCpu),
          2,
        ),
        fixed(
          med(label, (p) => p.loadCpu),
          2,
        ),
      ]),
    );
    console.log(
      '(req/s, latencies and CPU: medians over the rounds; answered and failed: totals; the last five rows ran once, ' +
        "the paced ones open-loop at a fixed rate over at most 64 connections, each latency counted from the request's " +
        'scheduled time; only the measured server runs, the others are paused)',
    );
    console.log(
      `per-round submitContact req/s, metrics on: ${at(plan[1]![0])
        .map((p) => Math.round(p.reqPerSec))
        .join(', ')}; off: ${at(plan[3]![0])
        .map((p) => Math.round(p.reqPerSec))
        .join(', ')}`,
    );

    // Paired per round: each ratio compares phases that ran minutes apart at most.
    const ratio = (a: string, b: string) => median(at(a).map((p, i) => p.reqPerSec / at(b)[i]!.reqPerSec));
    const submitRate = med(plan[1]![0], (p) => p.reqPerSec);
    const submitP99 = med(plan[1]![0], (p) => p.p99);
    const targetLoad = at(steady.at(-1)!)[0]!;
    const floorLoad = at(floor)[0]!;
    // Little's law: with N requests always outstanding, the mean latency is N / throughput.
    const closedLoopMean = (CONNECTIONS / submitRate) * 1000;
    const ofBaseline = ratio(plan[1]![0], plan[0]![0]);
    const metricsCost = 1 - ratio(plan[1]![0], plan[3]![0]);
    const slowRatio = ratio(plan[4]![0], plan[1]![0]);
    const downRatio = ratio(plan[5]![0], plan[1]![0]);

    // Mail state after the load: intake must not wait for it, and the backlog shows how far mail lags.
    const mail = await Promise.all(
      targets.map(async (t) => {
        const [row] = await query<{ pending: string; sent: string }>(
          t.databaseUrl,
          `select count(*) filter (where notification_status = 'PENDING') as pending,
                  count(*) filter (where notification_status = 'SENT') as sent from contacts`,
        );
        return [t.name, Number(row!.sent), Number(row!.pending)];
      }),
    );
    console.log('\nNotification emails at the end (every contact queues one)');
    printTable(['server', 'sent', 'still pending'], mail);
    console.log(
      `Backlog drain with no load (metrics on, outbox mailer, ${DRAIN_SECONDS} s): ${Math.round(drain.perSecond)} emails/s, ` +
        `CPU ${fixed(drain.serverCpu, 2)} ms (server) + ${fixed(drain.pgCpu, 2)} ms (PostgreSQL) per email`,
    );

    console.log('\nTargets');
    printTable(
      ['target', 'measured', 'verdict'],
      [
        ['submissions/s >= 1500', Math.round(submitRate), verdict(submitRate >= 1500)],
        [
          `p99 <= 25 ms at ${TARGET_RATE}/s (open-loop)`,
          `${targetLoad.p99} ms (p50 ${targetLoad.p50} ms, ${Math.round(targetLoad.reqPerSec)} ok/s; ` +
            `{ __typename } at the same rate: p99 ${floorLoad.p99} ms)`,
          verdict(targetLoad.p99 <= 25 && targetLoad.failed === 0),
        ],
        [
          `p99 <= 25 ms at saturation (${CONNECTIONS} connections, closed-loop)`,
          `${submitP99} ms (mean >= ${fixed(closedLoopMean)} ms by Little's law)`,
          verdict(submitP99 <= 25),
        ],
        ['throughput >= 40% of { __typename }', `${fixed(ofBaseline * 100)}%`, verdict(ofBaseline >= 0.4)],
        ['metrics cost <= 10% of throughput', `${fixed(metricsCost * 100)}%`, verdict(metricsCost <= 0.1)],
        [
          'intake independent of mail: SES 2 s slow',
          `${fixed(slowRatio * 100)}% of the req/s, p99 ${med(plan[4]![0], (p) => p.p99)} ms`,
          verdict(slowRatio >= 0.9),
        ],
        [
          'intake independent of mail: SES refusing',
          `${fixed(downRatio * 100)}% of the req/s, p99 ${med(plan[5]![0], (p) => p.p99)} ms`,
          verdict(downRatio >= 0.9),
        ],
      ],
    );
    console.log(
      '(ratios: per-round pairs, median; "independent of mail" counts as met within 10% of the default outbox mailer)',
    );
    for (const t of targets) {
      const lines = t.server
        .output()
        .split('\n')
        .filter((l) => l.trim() && !l.includes('Staff token'));
      if (lines.length)
        console.log(`\n[${t.name}] the server's last log line: ${lines.at(-1)!.slice(0, 300)}`);
    }
  } finally {
    for (const t of targets) await t.server.stop();
    ses.close();
  }
});
