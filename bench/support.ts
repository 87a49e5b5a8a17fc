// Shared bench plumbing: an embedded PostgreSQL, the server in a child process, load, percentiles, tables.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Agent, type IncomingMessage, request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import autocannon from 'autocannon';
import getPort from 'get-port';
import PDFDocument from 'pdfkit';
import pg from 'pg';
import { createLogger } from '../src/logger.ts';
import { startEmbeddedPostgres } from '../src/services/db/embedded-postgres.ts';
import { descendantPids, memoryKiB, processIds, processStat, tempDir } from '../test/support/proc.ts';
import { buildServer, startCommand } from '../test/support/start-command.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const STAFF_TOKEN = 'bench-staff-token-0123456789abcdef';

const cleanups = new Set<() => Promise<void>>();
async function cleanAll() {
  for (const c of [...cleanups].reverse()) await c().catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanAll().finally(() => process.exit(130));
  });
}
/** Runs the bench body, then stops every server and database it started, even on failure. */
export async function bench(body: () => Promise<void>): Promise<void> {
  const [load1] = loadavg();
  console.log(
    `Machine: ${availableParallelism()} cores, load average ${load1!.toFixed(2)} at start` +
      (load1! > 0.7 ? ' (other processes are busy: expect lower, noisier figures)' : ''),
  );
  try {
    await body();
  } catch (err) {
    process.exitCode = 1;
    console.error(err);
  } finally {
    await cleanAll();
  }
  // Kept-alive sockets and pools must not keep a finished bench alive.
  process.exit();
}

export interface BenchDatabase {
  url: string;
  /** A new empty database in the same server, so each phase starts from the same state. */
  create(name: string): Promise<string>;
  /** CPU seconds PostgreSQL has used so far: the postmaster, its live children and the children it reaped. */
  cpuSeconds(): number;
}

/** One embedded PostgreSQL per bench, in a temp dir removed at the end. */
export async function startDatabase(): Promise<BenchDatabase> {
  const dir = await tempDir('dossier-bench-pg-');
  const db = await startEmbeddedPostgres(dir, null, createLogger('warn'));
  cleanups.add(async () => {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const postmaster = Number(readFileSync(join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: db.url,
    cpuSeconds() {
      const own = processStat(postmaster);
      let total = (own?.cpuSeconds ?? 0) + (own?.reapedCpuSeconds ?? 0);
      for (const p of processIds()) {
        const child = processStat(p);
        if (child?.ppid === postmaster) total += child.cpuSeconds;
      }
      return total;
    },
    async create(name) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(`create database "${name}"`);
      } finally {
        await client.end();
      }
      const url = new URL(db.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
  };
}

export interface BenchServer {
  url: string;
  pid: number;
  /** From spawn until /ready answered 200, in ms. */
  startupMs: number;
  /** The child's current and peak resident set, in KiB, from /proc. */
  memory(): { rssKb: number; hwmKb: number };
  /** CPU seconds the child has used so far (user + system, all its threads). */
  cpuSeconds(): number;
  /** The last lines the server printed (warnings and errors at LOG_LEVEL=warn). */
  output(): string;
  /**
   * SIGSTOP / SIGCONT to the server and every process it started (its extraction processes): a paused
   * server does no work at all, background jobs included, so that servers which are not being measured
   * take no CPU from the one that is.
   */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((ok) => (child.exitCode !== null ? ok() : child.once('exit', () => ok())));

/**
 * Starts the server as `npm start` does, in a child process, so that the load generator never shares
 * its event loop. A null `databaseUrl` leaves DATABASE_URL unset: the server starts its own embedded
 * PostgreSQL.
 */
export async function startServer(
  databaseUrl: string | null,
  env: Record<string, string> = {},
): Promise<BenchServer> {
  buildServer();
  const dataDir = await tempDir('dossier-bench-data-');
  const start = startCommand();
  return startProcess(
    start.args,
    {
      ...start.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN: STAFF_TOKEN,
      // The SES client reads credentials itself; static ones keep it off the instance-metadata endpoint.
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
    async (url) => (await fetch(`${url}/ready`)).ok,
    () => rm(dataDir, { recursive: true, force: true }),
  );
}

/**
 * Starts `node <args>` with PORT set to a free port, and waits until `ready(url)` says so (errors count
 * as not yet); `stopped` runs after it exits. BENCH_NODE_OPTIONS goes to the child, e.g.
 * '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile it under load.
 */
export async function startProcess(
  args: string[],
  env: Record<string, string>,
  ready: (url: string) => Promise<boolean>,
  stopped?: () => Promise<void>,
): Promise<BenchServer> {
  const port = await getPort();
  const spawned = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      ...env,
    },
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = async () => {
    cleanups.delete(stop);
    if (child.exitCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited(child);
      clearTimeout(timer);
    }
    await stopped?.();
  };
  cleanups.add(stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args[0]} exited (${child.exitCode}):\n${tail}`);
    if (await ready(url).catch(() => false)) break;
    if (Date.now() > deadline) throw new Error(`${args[0]} was not ready in 60 s:\n${tail}`);
    await sleep(20);
  }
  const startupMs = performance.now() - spawned;
  return {
    url,
    pid: child.pid!,
    startupMs,
    memory() {
      const { rss, peak } = memoryKiB(child.pid!);
      return { rssKb: rss, hwmKb: peak };
    },
    cpuSeconds: () => processStat(child.pid!)?.cpuSeconds ?? 0,
    output: () => tail,
    pause() {
      // The parent first, so that it starts no process between the listing and the signals.
      child.kill('SIGSTOP');
      for (const pid of descendantPids(child.pid!)) signal(pid, 'SIGSTOP');
    },
    resume() {
      for (const pid of descendantPids(child.pid!)) signal(pid, 'SIGCONT');
      child.kill('SIGCONT');
    },
    stop,
  };
}

/** A signal to a process that may have ended meanwhile. */
function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name);
  } catch {
    // It ended between the listing and the signal: nothing left to pause or resume.
  }
}

export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Runs autocannon to completion (no progress bar). */
export function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((ok, fail) => {
    autocannon(opts, (err, result) => (err ? fail(err) : ok(result)));
  });
}

/** What one closed-loop GraphQL load phase cost: answers, and CPU seconds of the server, PostgreSQL and this process. */
export interface GraphQLLoad {
  result: autocannon.Result;
  /** 2xx answers without `errors` in the body. */
  ok: number;
  serverCpuSeconds: number;
  pgCpuSeconds: number;
  loadCpuSeconds: number;
}

/**
 * POSTs `body` to `server`'s /graphql from `connections` connections for `seconds` (`[<id>]` in the
 * body becomes a fresh id per request). GraphQL errors answer 200: a body with `errors` is a mismatch.
 */
export async function graphqlLoad(
  server: Pick<BenchServer, 'url' | 'cpuSeconds'>,
  db: Pick<BenchDatabase, 'cpuSeconds'>,
  body: string,
  opts: { connections: number; seconds: number },
): Promise<GraphQLLoad> {
  const before = [server.cpuSeconds(), db.cpuSeconds(), process.cpuUsage()] as const;
  const result = await load({
    url: `${server.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    idReplacement: body.includes('[<id>]'),
    connections: opts.connections,
    duration: opts.seconds,
    verifyBody: (res) => !String(res).includes('"errors"'),
  });
  const own = process.cpuUsage(before[2]);
  return {
    result,
    ok: result['2xx'] - result.mismatches,
    serverCpuSeconds: server.cpuSeconds() - before[0],
    pgCpuSeconds: db.cpuSeconds() - before[1],
    loadCpuSeconds: (own.user + own.system) / 1e6,
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One GraphQL POST over a kept-alive connection; resolves with the parsed body and the round trip in ms. */
export function postGraphQL<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  opts: { staff?: boolean; token?: string } = {},
): Promise<{ status: number; body: { data?: T; errors?: { message: string }[] }; ms: number }> {
  const payload = JSON.stringify({ query, variables });
  const started = performance.now();
  return new Promise((ok, fail) => {
    const req = request(
      `${url}/graphql`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          'content-length': Buffer.byteLength(payload),
          ...(opts.staff || opts.token ? { authorization: `Bearer ${opts.token ?? STAFF_TOKEN}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - started;
          try {
            ok({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()), ms });
          } catch (err) {
            fail(err);
          }
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}

const UPLOAD = 'mutation Upload($file: Upload!) { uploadDocument(file: $file) { id size sha256 status } }';
const BOUNDARY = '----dossier-bench-boundary-7d2c1a';

export interface Uploaded {
  id: string;
  size: number;
  sha256: string;
  status: string;
}

/**
 * One GraphQL multipart upload (the layout of test/support/upload.ts), its file streamed from `chunks`
 * with backpressure, so a 200 MB body never sits in this process.
 */
export async function upload(
  url: string,
  filename: string,
  size: number,
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
): Promise<{ doc: Uploaded; ms: number }> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n` +
      `${JSON.stringify({ query: UPLOAD, variables: { file: null } })}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="${filename}"\r\n` +
      'Content-Type: application/pdf\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const started = performance.now();
  const req = request(`${url}/graphql`, {
    method: 'POST',
    agent,
    headers: {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-length': head.length + size + tail.length,
      'apollo-require-preflight': 'true',
      authorization: `Bearer ${STAFF_TOKEN}`,
    },
  });
  const response = once(req, 'response') as Promise<[IncomingMessage]>;
  req.write(head);
  for await (const chunk of chunks) if (!req.write(chunk)) await once(req, 'drain');
  req.end(tail);
  const [res] = await response;
  const parts: Buffer[] = [];
  for await (const part of res) parts.push(part as Buffer);
  const ms = performance.now() - started;
  const body = JSON.parse(Buffer.concat(parts).toString()) as {
    data?: { uploadDocument: Uploaded };
    errors?: unknown[];
  };
  if (!body.data?.uploadDocument)
    throw new Error(`upload failed (${res.statusCode}): ${JSON.stringify(body)}`);
  return { doc: body.data.uploadDocument, ms };
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** The middle value (the mean of the two middle ones for an even count). */
export function median(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: median(s),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.at(-1) ?? Number.NaN,
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
  };
}

/** Prints rows as an aligned table; numbers right-aligned. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[], raw: (string | number)[] | null) =>
    r
      .map((c, i) => (raw && typeof raw[i] === 'number' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(headers, null));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r.map(String), r));
}

/** `met` / `MISSED` beside a figure and its target. */
export const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
export const fixed = (x: number, digits = 1) => Number(x.toFixed(digits));

const WORDS = (
  'project budget committee research schedule contract delivery invoice review analysis client ' +
  'requirement milestone proposal service quality report meeting design architecture'
).split(' ');

/** A real PDF (pdfkit) of dense business pages, about 350 words each; `image` (PNG) goes on the first page. */
export function makePdf(pages: number, image?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    for (let p = 0; p < pages; p++) {
      const words = Array.from({ length: 350 }, (_, i) => WORDS[(i * 7 + p * 3) % WORDS.length]);
      doc
        .addPage()
        .fontSize(10)
        .text(`Page ${p + 1}. ${words.join(' ')}.`, { width: 460 });
      if (p === 0 && image) doc.image(image, 72, 400, { width: 300 });
    }
    doc.end();
  });
}

/** A PNG of RGB noise, `side` pixels square: about 3 * side^2 bytes that no compression shrinks, like a photo. */
export function noisePng(side: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const rows = Buffer.concat(
    Array.from({ length: side }, () => Buffer.concat([Buffer.of(0), randomBytes(side * 3)])),
  );
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
