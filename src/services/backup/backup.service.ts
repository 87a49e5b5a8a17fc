import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import { openDatabase } from '../db/open-database.ts';
import { type Orm, ormOptions } from '../db/orm.ts';
import { createObjectStore, createServices } from '../index.ts';
import {
  BackupError,
  type Manifest,
  newManifest,
  type ObjectEntry,
  verifyBackup,
  writeManifest,
} from './manifest.ts';
import { type DumpSpec, dumpTables, loadTable, qualified } from './table-dump.ts';

// The application's tables, and pg-boss's jobs still to run (its other tables are rebuilt at start).
const APP_SCHEMA = 'public';
const MIGRATIONS_TABLE = 'mikro_orm_migrations';
const JOBS: DumpSpec = { schema: 'pgboss', table: 'job', where: `state in ('created', 'retry', 'active')` };

async function withOrm<T>(url: string, fn: (orm: Orm) => Promise<T>): Promise<T> {
  const orm = await MikroORM.init(ormOptions(url, 2));
  try {
    return await fn(orm);
  } finally {
    await orm.close(true);
  }
}

async function appTables(orm: Orm): Promise<string[]> {
  const rows = await orm.em
    .fork()
    .execute<{ name: string }[]>(
      `select tablename as name from pg_tables where schemaname = ? and tablename <> ? order by tablename`,
      [APP_SCHEMA, MIGRATIONS_TABLE],
    );
  return rows.map((r) => r.name);
}

/** Streams `source` to `file`, returning its size and SHA-256. */
async function copyHashed(source: NodeJS.ReadableStream, file: string) {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await mkdir(dirname(file), { recursive: true });
  await pipeline(source, tap, createWriteStream(file, { flags: 'wx' }));
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Writes a backup to `out` (new or empty): the database first, as JSON lines per table in one
 * snapshot, then every object of the store (a file without a row is harmless, a row without its file
 * is not), then the manifest of checksums, which is read back and verified before this returns.
 */
export async function createBackup(config: Config, log: Logger, out: string): Promise<Manifest> {
  if (existsSync(out) && (await readdir(out)).length > 0) throw new BackupError(`${out} is not empty`);
  await mkdir(join(out, 'database'), { recursive: true });
  try {
    const db = await openDatabase(config, log, { shared: true });
    const { migrations, tables } = await withOrm(db.url, async (orm) => {
      const executed = (await orm.migrator.getExecuted()).map((m) => m.name);
      const specs = [...(await appTables(orm)).map((table) => ({ schema: APP_SCHEMA, table })), JOBS];
      const dumped = await dumpTables(orm.em.fork(), specs, (s) => {
        const path = `database/${s.schema}.${s.table}.jsonl`;
        return { path, file: join(out, path) };
      });
      return { migrations: executed, tables: dumped };
    }).finally(() => db.stop());
    const store = await createObjectStore(config);
    const objects: ObjectEntry[] = [];
    for await (const key of store.list()) {
      const path = `objects/${key}`;
      objects.push({ key, path, ...(await copyHashed(await store.get(key), join(out, path))) });
    }
    const manifest = newManifest({ migrations, tables, objects });
    await writeManifest(out, manifest);
    await verifyBackup(out);
    log.info({ out, tables: tables.length, objects: objects.length }, 'backup written and verified');
    return manifest;
  } catch (err) {
    await rm(out, { recursive: true, force: true });
    throw err;
  }
}

/** Tables ordered so that each comes after those its foreign keys reference. */
async function referenceOrder(orm: Orm, tables: string[]): Promise<string[]> {
  const edges = await orm.em.fork().execute<{ child: string; parent: string }[]>(
    `select c.relname as child, p.relname as parent from pg_constraint k
       join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid
       join pg_namespace n on n.oid = c.relnamespace
      where k.contype = 'f' and n.nspname = ?`,
    [APP_SCHEMA],
  );
  const ordered: string[] = [];
  const visit = (table: string, path: Set<string>) => {
    if (ordered.includes(table) || path.has(table)) return;
    path.add(table);
    for (const e of edges) if (e.child === table && e.parent !== table) visit(e.parent, path);
    if (tables.includes(table)) ordered.push(table);
  };
  for (const t of tables) visit(t, new Set());
  return ordered;
}

export interface RestoreOptions {
  /** Replace a database or store that already holds data. */
  force: boolean;
}

/**
 * Restores a verified backup into the configured database and store. Refuses a target that holds
 * data unless `force` (which empties it first). The schema is migrated to the backup's level, the
 * rows loaded, then every later migration runs; pending jobs are re-queued and search reindexed.
 */
export async function restoreBackup(config: Config, log: Logger, from: string, opts: RestoreOptions) {
  const manifest = await verifyBackup(from);
  const store = await createObjectStore(config);
  await store.init();
  const db = await openDatabase(config, log, { shared: false });
  try {
    await withOrm(db.url, async (orm) => {
      const em = orm.em.fork();
      const [{ n }] = await em.execute<{ n: string }[]>(
        `select count(*) as n from pg_tables where schemaname in (?, 'pgboss')`,
        [APP_SCHEMA],
      );
      const storeHasData = !(await store.list()[Symbol.asyncIterator]().next()).done;
      if ((Number(n) > 0 || storeHasData) && !opts.force) {
        throw new BackupError(
          'the target database or object store holds data: restore with --force to replace it',
        );
      }
      if (opts.force) {
        await em.execute(`drop schema if exists pgboss cascade`);
        await em.execute(`drop schema if exists ${APP_SCHEMA} cascade`);
        await em.execute(`create schema ${APP_SCHEMA}`);
        for await (const key of store.list()) await store.remove(key);
      }
      const level = manifest.migrations.at(-1);
      if (level) await orm.migrator.up({ to: level });
      const app = manifest.tables.filter((t) => t.schema === APP_SCHEMA);
      for (const table of await referenceOrder(
        orm,
        app.map((t) => t.table),
      )) {
        const entry = app.find((t) => t.table === table);
        if (entry) await loadTable(em, entry, join(from, entry.path));
      }
      await orm.migrator.up();
    });
  } finally {
    await db.stop();
  }
  for (const object of manifest.objects) {
    await store.put(object.key, createReadStream(join(from, object.path)), {
      contentType: 'application/octet-stream',
    });
  }
  // The server's own start-up: pg-boss's schema and queues, then the jobs and the search index.
  const services = await createServices(config, log);
  try {
    const jobs = manifest.tables.find((t) => t.schema === JOBS.schema && t.table === JOBS.table);
    if (jobs) {
      // Only queues this version knows: pg-boss keeps one partition per queue.
      await loadTable(
        services.orm.em.fork(),
        jobs,
        join(from, jobs.path),
        `name in (select name from ${qualified('pgboss', 'queue')})`,
      );
    }
    const drift = await services.repair.rebuild();
    log.info({ from, objects: manifest.objects.length, reindexed: drift }, 'restore complete');
  } finally {
    await services.close();
  }
  return manifest;
}
