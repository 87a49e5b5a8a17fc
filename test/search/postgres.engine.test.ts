import pg from 'pg';
import { initORM } from '../../src/services/db/orm.ts';
import { createPostgresEngine } from '../../src/services/search/postgres.engine.ts';
import { createTestDatabase } from '../support/db.ts';
import { defineSearchEngineContract, removeEverything } from './search-engine.contract.ts';

defineSearchEngineContract('postgres', async () => {
  const db = await createTestDatabase();
  const orm = await initORM(db.url);
  await orm.close();
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const engine = createPostgresEngine(pool);
  return {
    engine,
    reset: () => removeEverything(engine),
    teardown: async () => {
      await pool.end();
      await db.drop();
    },
  };
});
