import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type App, buildApp } from '../../src/app.ts';
import { type Env, loadConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { createTestDatabase } from './db.ts';

export const STAFF_TOKEN = 'test-staff-token-0123456789abcdef';

export interface TestApp {
  app: App;
  url: string;
  dataDir: string;
  databaseUrl: string;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GqlResponse<T>>;
  staff<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GqlResponse<T>>;
  stop(): Promise<void>;
}

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: {
    code?: string;
    issues?: { path: (string | number)[]; message: string }[];
    [k: string]: unknown;
  };
}

export interface GqlResponse<T> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: GqlError[];
}

export async function postGraphQL<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GqlResponse<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GqlError[] };
  return { status: res.status, headers: res.headers, ...body };
}

/** Starts the real app on a free port against a fresh database in the run's PostgreSQL. */
export async function startTestApp(
  env: Env = {},
  opts: { database?: string; dataDir?: string; log?: Logger; clock?: () => Date } = {},
): Promise<TestApp> {
  const db = opts.database ? null : await createTestDatabase();
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'dossier-test-')));
  await chmod(dataDir, 0o755);
  const databaseUrl = opts.database ?? db!.url;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN: STAFF_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RATE_LIMIT_PER_MINUTE: '1000',
    RATE_LIMIT_GLOBAL_PER_MINUTE: '100000',
    // Retries and rests after a failure come round in half a second, so that tests of them stay short.
    JOB_POLL_SECONDS: '0.5',
    ...env,
  } as Record<string, string>);
  const app = await buildApp(config, { log: opts.log ?? createLogger(config.logLevel), clock: opts.clock });
  await app.start();
  const url = app.url;
  return {
    app,
    url,
    dataDir,
    databaseUrl,
    gql: (q, v, h) => postGraphQL(url, q, v, h),
    staff: (q, v) => postGraphQL(url, q, v, { authorization: `Bearer ${STAFF_TOKEN}` }),
    async stop() {
      await app.stop();
      await db?.drop();
      // Retries: a job finishing during shutdown may still be writing into the data dir.
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/** A pino logger whose JSON lines land in `lines`, for tests that look at what was logged. */
export function capturedLog(level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level }, sink), lines };
}
