import { fileURLToPath } from 'node:url';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM } from '@mikro-orm/postgresql';
import { entities } from '../../entities/index.ts';
import { moduleExtension } from '../shared/module-file.ts';

// From the sources: migrations/*.ts; from the build: dist/migrations/*.js.
const migrationsDir = fileURLToPath(new URL('../../../migrations', import.meta.url));
const migrationsGlob = `!(*.d)${moduleExtension(import.meta.url)}`;

/** MikroORM reads host and credentials from the URL but not `sslmode`: map it to the driver's TLS option. */
export function tlsFor(clientUrl: string) {
  const mode = new URL(clientUrl).searchParams.get('sslmode');
  if (!mode || mode === 'disable') return {};
  return { ssl: { rejectUnauthorized: mode === 'verify-full' || mode === 'verify-ca' } };
}

export function ormOptions(clientUrl: string, poolMax = 10) {
  return defineConfig({
    clientUrl,
    entities,
    extensions: [Migrator],
    migrations: {
      path: migrationsDir,
      pathTs: migrationsDir,
      emit: 'ts',
      glob: migrationsGlob,
      silent: true,
      snapshot: false,
    },
    pool: { min: 0, max: poolMax },
    // Fail fast when the database is unreachable instead of queueing requests.
    driverOptions: { connectionTimeoutMillis: 3000, ...tlsFor(clientUrl) },
    allowGlobalContext: false,
    debug: false,
  });
}

export type Orm = MikroORM;

/** Connects and applies every pending migration. */
export async function initORM(clientUrl: string, poolMax?: number): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(clientUrl, poolMax));
  await orm.migrator.up();
  return orm;
}

/** True when every migration file has been applied. */
export async function migrationsApplied(orm: Orm): Promise<boolean> {
  return (await orm.migrator.getPending()).length === 0;
}
