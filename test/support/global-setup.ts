import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../../src/logger.ts';
import { startEmbeddedPostgres } from '../../src/services/db/embedded-postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

/** One real PostgreSQL for the whole run; each test file makes its own database in it. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'dossier-test-pg-'));
  await chmod(dir, 0o755); // PostgreSQL runs as its own user when we are root
  // pg_stat_statements: tests count the statements a request costs.
  const db = await startEmbeddedPostgres(dir, null, createLogger('warn'), {
    settings: { shared_preload_libraries: 'pg_stat_statements' },
  });
  project.provide('pgAdminUrl', db.url);
  return async () => {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
