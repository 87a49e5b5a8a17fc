import { EntityRepository } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import type { Erasure } from './erasure.entity.ts';

export class ErasureRepository extends EntityRepository<Erasure> {
  /** The latest erasure (pending or done) covering one of these contacts, to answer instead of a new one. */
  async latestCovering(contactIds: string[]): Promise<Erasure | null> {
    const { rows } = await sql<{ id: string }>`
      select id from erasures where contact_ids ?| ${contactIds}::text[]
       order by requested_at desc limit 1`.execute(this.em.getKysely());
    return rows[0] ? this.findOne({ id: rows[0].id }) : null;
  }
}
