import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { AppError } from '../../errors.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { addressBucket } from './address-bucket.ts';

export interface RateLimits {
  /** Spends one submission from the client's and the global budget; throws RATE_LIMITED when either is spent. */
  consume(clientIp: string): Promise<void>;
  /** Resolves once Redis answers (at most a few seconds), so a fresh process spends the shared budget. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Per-client (an IPv6 /64 is one client) and global submission budgets. With Redis, every API process
 * spends from the same budgets; while Redis cannot answer, each process falls back to its own
 * in-memory budgets (intake stays up, the limit is then per process).
 */
export async function createRateLimits(
  opts: { perClientPerMinute: number; globalPerMinute: number; redisUrl: string | null },
  metrics: Metrics,
): Promise<RateLimits> {
  // ioredis is loaded only when configured. No offline queue: a command fails at once while Redis is
  // away, and the in-memory insurance answers.
  const redis = opts.redisUrl
    ? new (await import('ioredis')).Redis(opts.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
      })
    : null;
  redis?.on('error', () => undefined); // reconnects by itself; requests meanwhile use the insurance limiter
  const limiter = (keyPrefix: string, points: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix, points, duration: 60 });
    return redis
      ? new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `dossier:rate:${keyPrefix}`,
          points,
          duration: 60,
          insuranceLimiter: memory,
        })
      : memory;
  };
  const perClient = limiter('client', opts.perClientPerMinute);
  const global = limiter('global', opts.globalPerMinute);
  const spend = async (budget: RateLimiterAbstract, key: string, scope: 'client' | 'global') => {
    try {
      await budget.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      metrics.rateLimited.inc({ scope });
      const retryAfterSeconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new AppError('RATE_LIMITED', `Too many submissions; retry in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
        scope,
      });
    }
  };
  return {
    async ready() {
      const client = redis;
      if (!client || client.status === 'ready') return;
      await new Promise<void>((ok) => {
        const timer = setTimeout(ok, 5000);
        client.once('ready', () => {
          clearTimeout(timer);
          ok();
        });
      });
    },
    async consume(clientIp) {
      await spend(perClient, addressBucket(clientIp), 'client');
      await spend(global, 'all', 'global');
    },
    async close() {
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}
