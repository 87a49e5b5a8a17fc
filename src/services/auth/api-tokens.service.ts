import { createHash, randomBytes } from 'node:crypto';
import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import type { Actor, Scope, Viewer } from '../../context.ts';
import { type ApiToken, ApiTokenEntity } from '../../entities/index.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Orm } from '../db/orm.ts';
import { isUuid } from '../shared/uuid.ts';
import { anonymous } from './viewers.ts';

export const API_TOKEN_PREFIX = 'dsr_';
// 32 random bytes, base64url: 43 characters after the prefix.
const SHAPE = /^dsr_[A-Za-z0-9_-]{43}$/;
const LAST_USED_EVERY_MS = 60_000;
const CACHE_MAX_ENTRIES = 10_000;

type Row = Pick<ApiToken, 'id' | 'name' | 'scopes' | 'expiresAt' | 'revokedAt' | 'lastUsedAt'>;

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Staff API tokens: `dsr_` + 32 random bytes, shown once, kept as their sha256. A verified token
 * is cached for `cacheSeconds`, which bounds how long a revoke takes to reach the other processes
 * (this process forgets it at once); expiry is checked on every request.
 */
export function createApiTokens(deps: { orm: Orm; audit: AuditService; log: Logger; cacheSeconds: number }) {
  const { orm, audit, log } = deps;
  const cache = new Map<string, { row: Row | null; at: number }>();
  const touched = new Map<string, number>();

  async function load(hash: string, fresh: boolean): Promise<Row | null> {
    const hit = cache.get(hash);
    if (hit && !fresh && Date.now() - hit.at < deps.cacheSeconds * 1000) return hit.row;
    const row = await orm.em
      .fork()
      .findOne(
        ApiTokenEntity,
        { tokenHash: hash },
        { fields: ['id', 'name', 'scopes', 'expiresAt', 'revokedAt', 'lastUsedAt'] },
      );
    cache.delete(hash);
    if (cache.size >= CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(hash, { row, at: Date.now() });
    return row;
  }

  /** lastUsedAt: at most one write a minute per token, across processes (the update's own condition). */
  function touch(row: Row) {
    const now = Date.now();
    const last = Math.max(row.lastUsedAt?.getTime() ?? 0, touched.get(row.id) ?? 0);
    if (now - last < LAST_USED_EVERY_MS) return;
    touched.set(row.id, now);
    const since = new Date(now - LAST_USED_EVERY_MS);
    orm.em
      .fork()
      .nativeUpdate(
        ApiTokenEntity,
        { id: row.id, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: since } }] },
        { lastUsedAt: new Date(now) },
      )
      .catch((err: unknown) => log.warn({ err }, 'could not record when an API token was used'));
  }

  const forget = (id: string) => {
    for (const [hash, entry] of cache) if (entry.row?.id === id) cache.delete(hash);
  };

  return {
    /** Who a `dsr_…` secret belongs to; `fresh` skips the cache (a long-lived socket's recheck). */
    async verify(secret: string, opts: { fresh?: boolean } = {}): Promise<Viewer> {
      if (!SHAPE.test(secret)) return anonymous('malformed');
      const row = await load(hashOf(secret), opts.fresh ?? false);
      if (!row) return anonymous('unknown_token');
      const actor = `api-token:${row.id}`;
      if (row.revokedAt) return { ...anonymous('revoked'), actor };
      if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return { ...anonymous('expired'), actor };
      touch(row);
      return {
        authenticated: true,
        actor,
        kind: 'api-token',
        id: row.id,
        name: row.name,
        scopes: row.scopes,
        expiresAt: row.expiresAt ?? null,
      };
    },

    /** A new token; the secret is in the answer only. */
    async create(
      em: EntityManager,
      by: Actor,
      input: { name: string; scopes: Scope[]; expiresAt: Date | null },
    ): Promise<{ token: string; apiToken: ApiToken }> {
      if (input.expiresAt && input.expiresAt.getTime() <= Date.now())
        throw new AppError('BAD_USER_INPUT', 'expiresAt must be in the future', {
          issues: [{ path: ['expiresAt'], message: 'must be in the future' }],
        });
      const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const apiToken = await em.transactional(async (tx) => {
        const created = tx.create(ApiTokenEntity, {
          name: input.name,
          scopes: [...new Set(input.scopes)],
          tokenHash: hashOf(token),
          createdBy: by.actor,
          expiresAt: input.expiresAt,
        });
        await tx.flush();
        await audit.record(tx, {
          ...by,
          action: 'token.create',
          subjectType: 'ApiToken',
          subjectId: created.id,
          details: { name: created.name, scopes: created.scopes, expiresAt: created.expiresAt ?? null },
        });
        return created;
      });
      return { token, apiToken };
    },

    /** Revokes a token (again: no change, no second event); effective here at once, elsewhere within the cache time. */
    async revoke(em: EntityManager, by: Actor, id: string): Promise<ApiToken> {
      const token = await em.transactional(async (tx) => {
        const found = isUuid(id)
          ? await tx.findOne(ApiTokenEntity, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE })
          : null;
        if (!found) throw new AppError('NOT_FOUND', 'No API token with this id', { argument: 'id' });
        if (found.revokedAt) return found;
        found.revokedAt = new Date();
        await tx.flush();
        await audit.record(tx, {
          ...by,
          action: 'token.revoke',
          subjectType: 'ApiToken',
          subjectId: found.id,
          details: { name: found.name },
        });
        return found;
      });
      forget(token.id);
      return token;
    },

    list: (em: EntityManager): Promise<ApiToken[]> =>
      em.find(ApiTokenEntity, {}, { orderBy: { createdAt: 'desc', id: 'desc' } }),
  };
}

export type ApiTokens = ReturnType<typeof createApiTokens>;
