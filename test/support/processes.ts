import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { STAFF_TOKEN } from './app.ts';
import { query } from './db.ts';
import { makePdf } from './extraction-fixtures.ts';
import { tempDir } from './proc.ts';
import { multipart, UPLOAD } from './upload.ts';

export { commandLine, descendantPids, memoryKiB, resetPeak, tempDir } from './proc.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs `command` from the repository root and waits until its output matches `ready`. */
export async function spawnUntil(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<Proc> {
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${args.join(' ')} did not start:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then(() => fail(new Error(`${args.join(' ')} exited:\n${out}`)));
  });
  return { child, output: () => out, exited };
}

export type ServerProcess = Proc & { url: string };

/** Runs a Node script of the repository to its end (as `npm run <script>` does); exit code and output. */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => ok({ code, out }));
  });
}

/**
 * Runs the server in its own Node process and waits until it listens: `src/main.ts` from the sources,
 * or the node arguments given (`startCommand().args` for the build `npm start` runs).
 */
export async function startServerProcess(
  env: Record<string, string>,
  script: string | string[] = 'src/main.ts',
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  const listening = /"url":"(http:\/\/[^"]+)\/graphql"/;
  const p = await spawnUntil(
    process.execPath,
    typeof script === 'string' ? [script] : script,
    { ...process.env, LOG_LEVEL: 'info', ...env },
    listening,
    timeoutMs,
  );
  return { ...p, url: listening.exec(p.output())![1]! };
}

/** Signals a process and waits for it to end; SIGKILL follows a SIGTERM that is not obeyed in 15 s. */
export async function stopProcess(p: Pick<Proc, 'child' | 'exited'>, signal: NodeJS.Signals = 'SIGTERM') {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(timer);
}

/** The environment of a Dossier process: one database, one data dir, the test staff token. */
export function dossierEnv(databaseUrl: string, dataDir: string, extra: Record<string, string> = {}) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    ADMIN_TOKEN: STAFF_TOKEN,
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: '1000',
    JOB_POLL_SECONDS: '0.5',
    ...extra,
  };
}

/** `npm run worker`: workers alone, no HTTP port. */
export function startWorkerProcess(env: Record<string, string>): Promise<Proc> {
  return spawnUntil(process.execPath, ['src/worker.ts'], env, /Dossier workers running/);
}

/** A Debian redis-server on a free port that keeps nothing on disk. */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await getPort();
  const dir = await tempDir('dossier-redis-');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const proc = await spawnUntil(
    'redis-server',
    [...args, '--dir', dir],
    { PATH: process.env.PATH ?? '' },
    /Ready to accept connections/,
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await stopProcess(proc);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Uploads one file as staff (uploadDocument); the new document's id and status. */
export async function uploadFile(url: string, name: string, content: Uint8Array | string) {
  const r = await multipart<{ uploadDocument: { id: string; status: string } }>(
    url,
    UPLOAD,
    { file: null },
    [{ path: 'variables.file', name, content }],
    { staff: true },
  );
  if (!r.data?.uploadDocument) throw new Error(`upload failed: ${JSON.stringify(r.errors)}`);
  return r.data.uploadDocument;
}

/** The pg-boss state of a document's extraction job (created, active, retry, completed, failed). */
export const extractionJobState = async (databaseUrl: string, documentId: string) =>
  (
    await query<{ state: string }>(
      databaseUrl,
      `select state from pgboss.job where name = 'document-extract' and data->>'documentId' = $1`,
      [documentId],
    )
  )[0]?.state;

export const documentStatus = async (databaseUrl: string, id: string) =>
  (await query<{ status: string }>(databaseUrl, 'select status from documents where id = $1', [id]))[0]
    ?.status;

export const SLOW_PDF_PAGES = 320;

/** A PDF that takes pdf-parse a second or two (SLOW_PDF_PAGES text pages), made once and cached. */
export async function slowPdf(): Promise<Uint8Array> {
  const dir = join(tmpdir(), 'dossier-test-cache');
  const file = join(dir, `slow-${SLOW_PDF_PAGES}-v1.pdf`);
  if (existsSync(file)) return new Uint8Array(await readFile(file));
  const text = 'Zanzibar spice plantations export cloves and nutmeg to the markets of the world. '.repeat(30);
  const pdf = await makePdf(Array.from({ length: SLOW_PDF_PAGES }, (_, i) => `Page ${i + 1}. ${text}`));
  await mkdir(dir, { recursive: true });
  // Written aside and renamed, so a parallel test never reads half a file.
  await writeFile(`${file}.${process.pid}`, pdf);
  await rename(`${file}.${process.pid}`, file);
  return pdf;
}
