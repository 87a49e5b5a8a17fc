// submitContact under sustained load beside `{ __typename }` on the same server; then metrics off, mail slow, mail down.
// Run: npm run bench:contact   (BENCH_SECONDS=5 for a quick run; BENCH_CONNECTIONS to change the 50 connections)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { freePort } from '../src/services/db/embedded-postgres.ts';
import {
  BENCH_SECONDS,
  type BenchDatabase,
  type BenchServer,
  bench,
  fixed,
  load,
  printTable,
  sleep,
  startDatabase,
  startServer,
  verdict,
} from './support.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP_SECONDS = Math.min(5, BENCH_SECONDS);

const TYPENAME = JSON.stringify({ query: '{ __typename }' });
// `[<id>]` is replaced by autocannon with a fresh id per request: every submission has its own email.
const SUBMIT = JSON.stringify({
  query: 'mutation Submit($input: ContactInput!) { submitContact(input: $input) { contact { id } } }',
  variables: {
    input: {
      name: 'Ada Lovelace',
      email: 'ada+[<id>]@example.com',
      company: 'Analytical Engines Ltd',
      service: 'Audit',
      message: 'We would like a review of our engine designs before the spring exhibition.',
    },
  },
});

interface Phase {
  label: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  ok: number;
  /** CPU per request, in ms: the server (all threads), PostgreSQL, this load generator. */
  cpuMs: number;
  pgCpuMs: number;
  loadCpuMs: number;
  failed: number;
}

async function run(
  db: BenchDatabase,
  server: BenchServer,
  label: string,
  body: string,
  seconds: number,
): Promise<Phase> {
  const cpuBefore = [server.cpuSeconds(), db.cpuSeconds(), process.cpuUsage()] as const;
  const r = await load({
    url: `${server.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    idReplacement: body.includes('[<id>]'),
    connections: CONNECTIONS,
    duration: seconds,
    // GraphQL errors (rate limit, validation) answer 200: a body with `errors` counts as a mismatch.
    verifyBody: (res) => !String(res).includes('"errors"'),
  });
  const ok = r['2xx'] - r.mismatches;
  const perRequest = (seconds: number) => (seconds * 1000) / r.requests.total;
  const own = process.cpuUsage(cpuBefore[2]);
  return {
    label,
    reqPerSec: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    ok,
    cpuMs: perRequest(server.cpuSeconds() - cpuBefore[0]),
    pgCpuMs: perRequest(db.cpuSeconds() - cpuBefore[1]),
    loadCpuMs: perRequest((own.user + own.system) / 1e6),
    failed: r.requests.total - ok + r.errors + r.timeouts,
  };
}

async function countContacts(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>('select count(*) as n from contacts')).rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** A fresh database and server per configuration: each starts from empty tables and queues. */
async function measure(
  db: BenchDatabase,
  name: string,
  env: Record<string, string>,
  withBaseline: boolean,
): Promise<{ baseline: Phase | null; submit: Phase }> {
  const databaseUrl = await db.create(name);
  const server = await startServer(databaseUrl, {
    RATE_LIMIT_PER_MINUTE: '100000000',
    RATE_LIMIT_GLOBAL_PER_MINUTE: '100000000',
    ...env,
  });
  try {
    const warm = await run(db, server, 'warm-up', SUBMIT, WARMUP_SECONDS);
    await sleep(500);
    const baseline = withBaseline
      ? await run(db, server, `${name}: { __typename }`, TYPENAME, BENCH_SECONDS)
      : null;
    const submit = await run(db, server, `${name}: submitContact`, SUBMIT, BENCH_SECONDS);
    const stored = await countContacts(databaseUrl);
    // Every answered submission is a row (requests cut off at the end of a phase may add a few more).
    if (stored < warm.ok + submit.ok)
      throw new Error(`${name}: ${stored} contacts stored, fewer than answered`);
    const warnings = server
      .output()
      .split('\n')
      .filter((l) => l.trim() && !l.includes('Staff token'));
    if (warnings.length) console.log(`[${name}] server said (last lines):\n${warnings.slice(-5).join('\n')}`);
    return { baseline, submit };
  } finally {
    await server.stop();
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
    `submitContact load: autocannon, ${CONNECTIONS} connections, ${BENCH_SECONDS} s per phase (after ${WARMUP_SECONDS} s warm-up per server), rate limits raised.`,
  );
  console.log(
    'Server: node src/main.ts in a child process, NODE_ENV=production, disk store, one in-process worker; fresh database per configuration.\n',
  );
  const db = await startDatabase();
  const ses = await slowSes(2000);
  const refusedPort = await freePort();
  try {
    const on = await measure(db, 'metrics_on', {}, true);
    const off = await measure(db, 'metrics_off', { METRICS: 'false' }, true);
    const slow = await measure(db, 'ses_slow', { SES_REGION: 'eu-west-1', SES_ENDPOINT: ses.url }, false);
    const down = await measure(
      db,
      'ses_down',
      { SES_REGION: 'eu-west-1', SES_ENDPOINT: `http://127.0.0.1:${refusedPort}` },
      false,
    );

    const rows = [on.baseline!, on.submit, off.baseline!, off.submit, slow.submit, down.submit].map((p) => [
      p.label.replace('_', ' '),
      Math.round(p.reqPerSec),
      p.p50,
      p.p99,
      p.requests,
      p.failed,
      fixed(p.cpuMs, 2),
      fixed(p.pgCpuMs, 2),
      fixed(p.loadCpuMs, 2),
    ]);
    printTable(
      [
        'phase',
        'ok req/s',
        'p50 ms',
        'p99 ms',
        'requests',
        'failed',
        'CPU ms/req: server',
        'postgres',
        'autocannon',
      ],
      rows,
    );

    const submit = on.submit;
    const ofBaseline = submit.reqPerSec / on.baseline!.reqPerSec;
    const metricsCost = 1 - on.submit.reqPerSec / off.submit.reqPerSec;
    console.log('\nTargets');
    printTable(
      ['target', 'measured', 'verdict'],
      [
        ['submissions/s >= 1500', Math.round(submit.reqPerSec), verdict(submit.reqPerSec >= 1500)],
        ['p99 <= 25 ms', submit.p99, verdict(submit.p99 <= 25)],
        ['throughput >= 40% of { __typename }', `${fixed(ofBaseline * 100)}%`, verdict(ofBaseline >= 0.4)],
        ['metrics cost <= 10% of throughput', `${fixed(metricsCost * 100)}%`, verdict(metricsCost <= 0.1)],
        [
          'intake unchanged with SES 2 s slow',
          `${fixed((slow.submit.reqPerSec / submit.reqPerSec) * 100)}% of req/s, p99 ${slow.submit.p99} ms`,
          '(see note)',
        ],
        [
          'intake unchanged with SES down',
          `${fixed((down.submit.reqPerSec / submit.reqPerSec) * 100)}% of req/s, p99 ${down.submit.p99} ms`,
          '(see note)',
        ],
      ],
    );
    console.log(
      '\nMail goes through the notify job: with SES slow or refusing, submitContact still commits and answers;' +
        ' the figures above compare its throughput and p99 with the default (outbox) mailer.',
    );
  } finally {
    ses.close();
  }
});
