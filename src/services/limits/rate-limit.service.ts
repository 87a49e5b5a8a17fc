import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../errors.ts';
import type { Metrics } from '../metrics/metrics.ts';

export interface RateLimits {
  /** Spends one submission from the client's and the global budget; throws RATE_LIMITED when either is spent. */
  consume(clientIp: string): Promise<void>;
}

export function createRateLimits(
  opts: { perClientPerMinute: number; globalPerMinute: number },
  metrics: Metrics,
): RateLimits {
  const perClient = new RateLimiterMemory({
    keyPrefix: 'client',
    points: opts.perClientPerMinute,
    duration: 60,
  });
  const global = new RateLimiterMemory({ keyPrefix: 'global', points: opts.globalPerMinute, duration: 60 });
  const spend = async (limiter: RateLimiterMemory, key: string, scope: 'client' | 'global') => {
    try {
      await limiter.consume(key);
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
    async consume(clientIp) {
      await spend(perClient, clientIp, 'client');
      await spend(global, 'all', 'global');
    },
  };
}
