import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initORM, type Orm } from '../../../src/services/db/orm.ts';
import { indexStep } from '../../../src/services/pipeline/index.step.ts';
import { createPostgresEngine } from '../../../src/services/search/postgres.engine.ts';
import type { SearchEngine } from '../../../src/services/search/search-engine.ts';
import { createTestDatabase } from '../../support/db.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let orm: Orm;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  orm = await initORM(db.url);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
});
afterAll(async () => {
  await pool?.end();
  await orm?.close(true);
  await db?.drop();
});

it('an index step whose document is erased while it writes takes the entry out again', async () => {
  const id = randomUUID();
  await pool.query(
    `insert into documents (id, filename, content_type, size, sha256, storage_key, status, text, created_at, processed_at)
     values ($1, 'cv.pdf', 'application/pdf', 3, repeat('0', 64), 'documents/unassigned/x/cv.pdf', 'COMPLETED', 'quokka', now(), now())`,
    [id],
  );
  const real = createPostgresEngine(pool);
  // The erasure deletes the row (and removes the entry) after the step loaded the document, before it wrote.
  const racing: SearchEngine = {
    ...real,
    async index(docs) {
      await pool.query('delete from documents where id = $1', [id]);
      await real.remove([id]);
      await real.index(docs);
    },
  };
  expect(await indexStep({ orm, search: { engine: racing } }, id)).toBe('skipped');
  expect((await real.inventory()).has(id)).toBe(false);
});
