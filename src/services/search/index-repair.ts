import type { MikroORM } from '@mikro-orm/postgresql';
import { DocumentEntity } from '../../entities/index.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { loadSearchDocuments } from './search.service.ts';
import type { SearchEngine } from './search-engine.ts';

export interface Drift {
  /** Completed documents the engine does not have. */
  missing: string[];
  /** Indexed with an older version than the database holds. */
  stale: string[];
  /** In the engine but no longer a completed document. */
  orphaned: string[];
}

const BATCH = 200;

/** Compares the engine with PostgreSQL (the source of truth) and mends the difference. */
export function createIndexRepair(deps: {
  orm: MikroORM;
  engine: SearchEngine;
  metrics: Metrics;
  log: Logger;
}) {
  const { orm, engine, metrics, log } = deps;

  async function drift(): Promise<Drift> {
    const expected = await orm.em.fork().getRepository(DocumentEntity).indexVersions();
    const indexed = await engine.inventory();
    const missing: string[] = [];
    const stale: string[] = [];
    for (const [id, version] of expected) {
      const got = indexed.get(id);
      if (got === undefined) missing.push(id);
      else if (got !== version) stale.push(id);
    }
    const orphaned = [...indexed.keys()].filter((id) => !expected.has(id));
    metrics.indexDrift.set(missing.length + stale.length + orphaned.length);
    return { missing, stale, orphaned };
  }

  async function indexIds(ids: string[]) {
    for (let i = 0; i < ids.length; i += BATCH) {
      const em = orm.em.fork();
      const docs = await loadSearchDocuments(em, ids.slice(i, i + BATCH));
      if (docs.length) await engine.index(docs);
      await em.getRepository(DocumentEntity).markIndexed(docs);
    }
  }

  return {
    drift,
    /** Rebuilds the engine from PostgreSQL: settings, every completed document, no orphans. */
    async rebuild(): Promise<Drift> {
      await engine.ensureSettings();
      const found = await drift();
      await indexIds(await orm.em.fork().getRepository(DocumentEntity).completedIds());
      if (found.orphaned.length) {
        await engine.remove(found.orphaned);
        await orm.em.fork().getRepository(DocumentEntity).markIndexed([], found.orphaned);
      }
      metrics.indexDrift.set(0);
      return found;
    },
    /** Indexes what is missing or stale and removes orphans; returns what it found. */
    async repair(): Promise<Drift> {
      const found = await drift();
      await indexIds([...found.missing, ...found.stale]);
      if (found.orphaned.length) {
        await engine.remove(found.orphaned);
        await orm.em.fork().getRepository(DocumentEntity).markIndexed([], found.orphaned);
      }
      const total = found.missing.length + found.stale.length + found.orphaned.length;
      if (total)
        log.info(
          { ...Object.fromEntries(Object.entries(found).map(([k, v]) => [k, v.length])) },
          'search index repaired',
        );
      metrics.indexDrift.set(0);
      return found;
    },
  };
}

export type IndexRepair = ReturnType<typeof createIndexRepair>;
