import type { Logger } from './logger.ts';
import { isPostgresUnavailable } from './services/shared/connection-errors.ts';

/**
 * pg-boss 10 completes and fails jobs without awaiting (manager.js `work`): a job that ends while
 * PostgreSQL is down or restarting rejects where no one listens, and Node would exit. Those are
 * logged (the job expires and runs again); any other unhandled rejection still ends the process.
 */
export function survivePostgresOutages(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    if (isPostgresUnavailable(reason)) {
      log.warn({ err: reason }, 'a database call failed while PostgreSQL was unavailable');
      return;
    }
    log.fatal({ err: reason }, 'unhandled rejection');
    process.exit(1);
  });
}
