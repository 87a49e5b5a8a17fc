import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, query } from '../../support/db.ts';
import { root } from '../../support/ops-run.ts';
import { runScript, tempDir } from '../../support/processes.ts';

// Every migration can be reverted (npm run migrate:down), checked on a real database: all the way
// down and up again, and one step.
const files = readdirSync(join(root, 'migrations'))
  .filter((f) => /^Migration\d+\.ts$/.test(f))
  .sort();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: db.url,
    DATA_DIR: await tempDir('dossier-migrate-'),
    LOG_LEVEL: 'warn',
  };
});
afterAll(() => db?.drop());

const tables = async () =>
  (
    await query<{ name: string }>(
      db.url,
      `select tablename as name from pg_tables where schemaname = 'public' and tablename <> 'mikro_orm_migrations' order by 1`,
    )
  ).map((r) => r.name);
const migrate = async (...args: string[]) => {
  const r = await runScript('src/migrate.ts', args, env);
  expect(r.code, r.out).toBe(0);
  return JSON.parse(r.out.trim().split('\n').at(-1) ?? '{}') as { migrations: string[] };
};

describe('migrations', () => {
  it('each define down()', async () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const module = (await import(join(root, 'migrations', file))) as Record<string, { prototype: object }>;
      const migration = Object.values(module)[0];
      expect(Object.hasOwn(migration.prototype, 'down'), `${file} has no down()`).toBe(true);
    }
  });

  it('revert all the way down and apply again; migrate:down reverts the last one only', async () => {
    expect((await migrate('up')).migrations).toHaveLength(files.length);
    const all = await tables();
    expect(all).toEqual(expect.arrayContaining(['contacts', 'documents']));
    expect((await migrate('down', '--all')).migrations).toHaveLength(files.length);
    expect(await tables()).toEqual([]);
    await migrate('up');
    expect(await tables()).toEqual(all);
    const last = files.at(-1)!.replace(/\.ts$/, '');
    expect((await migrate('down')).migrations).toEqual([last]);
    await migrate('up');
    expect(await tables()).toEqual(all);
  }, 120_000);
});
