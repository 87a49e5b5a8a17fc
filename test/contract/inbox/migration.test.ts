import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ormOptions } from '../../../src/services/db/orm.ts';
import { createTestDatabase } from '../../support/db.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let orm: MikroORM;
beforeAll(async () => {
  db = await createTestDatabase();
  orm = await MikroORM.init(ormOptions(db.url, 2));
});
afterAll(async () => {
  await orm.close(true);
  await db.drop();
});

describe('the staff-side migration', () => {
  it('makes existing contacts NEW, untagged, updated when created', async () => {
    await orm.migrator.up({ to: 'Migration20261123213506' });
    await orm.em.getConnection().execute(
      `insert into contacts (id, name, email, message, source, created_at)
       values ('11111111-1111-4111-8111-111111111111', 'Old', 'old@example.com', 'hi', 'website', '2026-01-02T03:04:05.678Z')`,
    );
    await orm.migrator.up();
    const [row] = await orm.em
      .getConnection()
      .execute<{ status: string; tags: string[]; same: boolean }[]>(
        'select status, tags, updated_at = created_at as same from contacts',
      );
    expect(row).toEqual({ status: 'NEW', tags: [], same: true });
  });
});
