// Dossier's per-request floor beside PostGraphile 5 in the same run: `{ __typename }` on both, and a
// create mutation (PostGraphile's generated createContact, Dossier's submitContact). Each system has its
// own embedded PostgreSQL; the one not measured is paused (SIGSTOP), so it takes no CPU. A third row,
// for information: Dossier's API process alone (WORKERS=0), as the stack deploys it.
// Run: npm run bench:peers   (BENCH_SECONDS=20 per phase, BENCH_ROUNDS=3, BENCH_CONNECTIONS=50;
// BENCH_QUICK=1 for 3 s phases and one round)
import pg from 'pg';
import {
  type BenchDatabase,
  type BenchServer,
  bench,
  fixed,
  graphqlLoad,
  median,
  printTable,
  sleep,
  startDatabase,
  startProcess,
  startServer,
  verdict,
} from './support.ts';

const QUICK = Boolean(process.env.BENCH_QUICK);
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 3 : 20));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP_SECONDS = Math.min(3, SECONDS);

const TYPENAME = JSON.stringify({ query: '{ __typename }' });
const CONTACT = {
  name: 'Ada Lovelace',
  email: 'ada+[<id>]@example.com',
  company: 'Analytical Engines Ltd',
  service: 'Audit',
  message: 'We would like a review of our engine designs before the spring exhibition.',
};
// `[<id>]` is replaced by autocannon with a fresh id per request: every submission has its own email.
const SUBMIT = JSON.stringify({
  query: 'mutation Submit($input: ContactInput!) { submitContact(input: $input) { contact { id } } }',
  variables: { input: CONTACT },
});
const CREATE = JSON.stringify({
  query:
    'mutation Create($contact: ContactInput!) { createContact(input: { contact: $contact }) { contact { id } } }',
  variables: { contact: CONTACT },
});
// The peer's table: the columns a contact has in Dossier, which PostGraphile turns into createContact.
const PEER_SCHEMA = `create table contacts (
  id uuid primary key default gen_random_uuid(),
  name text not null, email text not null, company text, service text, message text not null,
  created_at timestamptz not null default now())`;

interface System {
  name: string;
  server: BenchServer;
  db: BenchDatabase;
}

interface Phase {
  reqPerSec: number;
  serverCpuMs: number;
  pgCpuMs: number;
}

async function run(system: System, body: string, seconds: number): Promise<Phase> {
  const {
    result: r,
    ok,
    ...cpu
  } = await graphqlLoad(system.server, system.db, body, {
    connections: CONNECTIONS,
    seconds,
  });
  const failed = r.requests.total - ok + r.errors;
  if (failed > r.requests.total / 100)
    throw new Error(`${system.name}: ${failed} of ${r.requests.total} failed`);
  const perRequest = (cpuSeconds: number) => (cpuSeconds * 1000) / ok;
  return {
    reqPerSec: ok / seconds,
    serverCpuMs: perRequest(cpu.serverCpuSeconds),
    pgCpuMs: perRequest(cpu.pgCpuSeconds),
  };
}

/** Measures `system` alone: every other server is paused meanwhile. */
async function measure(all: System[], system: System, body: string, seconds: number) {
  for (const other of all) if (other !== system) other.server.pause();
  try {
    return await run(system, body, seconds);
  } finally {
    for (const other of all) if (other !== system) other.server.resume();
    await sleep(500);
  }
}

async function startPeer(): Promise<System> {
  const db = await startDatabase();
  const url = await db.create('peer');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(PEER_SCHEMA);
  await client.end();
  const server = await startProcess(
    ['bench/peers/postgraphile.server.ts'],
    { NODE_ENV: 'production', DATABASE_URL: url },
    async (base) =>
      (
        await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: TYPENAME,
        })
      ).ok,
  );
  return { name: 'PostGraphile 5', server, db };
}

async function startDossier(name: string, env: Record<string, string> = {}): Promise<System> {
  const db = await startDatabase();
  const server = await startServer(await db.create('bench'), {
    RATE_LIMIT_PER_MINUTE: '100000000',
    RATE_LIMIT_GLOBAL_PER_MINUTE: '100000000',
    ...env,
  });
  return { name, server, db };
}

await bench(async () => {
  console.log(
    `autocannon, ${CONNECTIONS} connections, ${ROUNDS} x ${SECONDS} s per phase after ${WARMUP_SECONDS} s warm-up, ` +
      'medians; each system on its own embedded PostgreSQL; Dossier in its default configuration ' +
      '(NODE_ENV=production, one in-process worker) with rate limits raised. The last row, for information, ' +
      "is Dossier's API process alone (WORKERS=0): the jobs a submission queues (the owner's email) wait " +
      'for a worker process, as the stack runs them in a container of their own.',
  );
  const peer = await startPeer();
  const dossier = await startDossier('Dossier');
  const apiOnly = await startDossier('Dossier API only', { WORKERS: '0' });
  const all = [peer, dossier, apiOnly];
  const phases = [
    { label: '{ __typename }', peer: TYPENAME, dossier: TYPENAME, target: 0.5 },
    { label: 'create (createContact / submitContact)', peer: CREATE, dossier: SUBMIT, target: 0.8 },
  ];
  const bodyOf = (system: System, p: (typeof phases)[number]) => (system === peer ? p.peer : p.dossier);
  for (const p of phases)
    for (const system of all) await measure(all, system, bodyOf(system, p), WARMUP_SECONDS);
  const results = new Map<string, Phase[]>();
  const keep = (key: string, phase: Phase) => results.set(key, [...(results.get(key) ?? []), phase]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const p of phases)
      for (const system of all)
        keep(`${p.label}|${system.name}`, await measure(all, system, bodyOf(system, p), SECONDS));
    console.log(`round ${round + 1} of ${ROUNDS} done`);
  }
  const med = (key: string, pick: (x: Phase) => number) => median(results.get(key)!.map(pick));
  const rows: (string | number)[][] = [];
  for (const p of phases) {
    const peerRate = med(`${p.label}|${peer.name}`, (x) => x.reqPerSec);
    for (const system of all) {
      const key = `${p.label}|${system.name}`;
      const rate = med(key, (x) => x.reqPerSec);
      const ratio = rate / peerRate;
      rows.push([
        p.label,
        system.name,
        fixed(rate, 0),
        fixed(
          med(key, (x) => x.serverCpuMs),
          3,
        ),
        fixed(
          med(key, (x) => x.pgCpuMs),
          3,
        ),
        system === peer
          ? ''
          : `${fixed(ratio * 100, 0)}%${system === dossier ? ` (target >= ${p.target * 100}%)` : ''}`,
        system === dossier ? verdict(ratio >= p.target) : '',
      ]);
    }
  }
  console.log('');
  printTable(['operation', 'system', 'req/s', 'server CPU ms/req', 'PG CPU ms/req', 'of peer', ''], rows);
});
