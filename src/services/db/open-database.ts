import type { Config } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import { runningEmbeddedUrl, startEmbeddedPostgres } from './embedded-postgres.ts';

export interface Database {
  url: string;
  stop(): Promise<void>;
}

export class DatabaseInUseError extends Error {}

/**
 * For the operations commands (backup, restore, migrate): DATABASE_URL; else the embedded server a
 * running `npm start` serves from DATA_DIR (when `shared`); else the embedded one, started here.
 */
export async function openDatabase(
  config: Config,
  log: Logger,
  opts: { shared: boolean },
): Promise<Database> {
  if (config.database) return { url: config.database.url, stop: async () => undefined };
  const running = await runningEmbeddedUrl(config.dataDir);
  if (running && !opts.shared)
    throw new DatabaseInUseError(`Dossier is running on ${config.dataDir}: stop it first`);
  if (running) return { url: running, stop: async () => undefined };
  const embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgres.port, log);
  return { url: embedded.url, stop: () => embedded.stop() };
}
