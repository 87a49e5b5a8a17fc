import { join, resolve } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import type { Config } from '../config.ts';
import { ContactEntity, DocumentEntity } from '../entities/index.ts';
import type { Logger } from '../logger.ts';
import { createAuditService } from './audit/audit.service.ts';
import { createApiTokens } from './auth/api-tokens.service.ts';
import { createAuthService, readRootToken } from './auth/auth.service.ts';
import { createContactTriage } from './contacts/contact-triage.ts';
import { createContactService } from './contacts/contacts.service.ts';
import { createIntakeWriter } from './contacts/intake-writer.ts';
import { startEmbeddedPostgres } from './db/embedded-postgres.ts';
import { initORM, migrationsApplied, type Orm } from './db/orm.ts';
import { createDocumentService } from './documents/documents.service.ts';
import { createDownloadService } from './documents/downloads.service.ts';
import { createUploadService } from './documents/uploads.service.ts';
import { createEvents } from './events/events.ts';
import { createExtractionPool } from './extraction/extraction-pool.ts';
import { checkOcrInstalled } from './extraction/ocr/languages.ts';
import { ocrTaskTimeoutMs } from './extraction/ocr/ocr.ts';
import { createJobQueue } from './jobs/job-queue.ts';
import { QUEUES, queueSpecs } from './jobs/queues.ts';
import { createRateLimits } from './limits/rate-limit.service.ts';
import type { Mailer } from './mail/mailer.ts';
import { createOutboxMailer } from './mail/outbox.mailer.ts';
import { createMetrics } from './metrics/metrics.ts';
import { createPipeline } from './pipeline/pipeline.service.ts';
import { createErasureService } from './privacy/erasure.service.ts';
import { createExportService } from './privacy/export.service.ts';
import { createRetention } from './privacy/retention.ts';
import { createIndexRepair } from './search/index-repair.ts';
import { createSearchService } from './search/search.service.ts';
import type { SearchEngine } from './search/search-engine.ts';
import { readOrCreateSecret } from './shared/secret-file.ts';
import { createUrlSigner } from './shared/signed-url.ts';
import { createDiskStore } from './storage/disk.store.ts';
import type { ObjectStore } from './storage/storage.ts';

export async function createObjectStore(config: Config): Promise<ObjectStore> {
  if (!config.storage) return createDiskStore(join(resolve(config.dataDir), 'objects'));
  const { createS3Store } = await import('./storage/s3.store.ts');
  const { credentials, ...location } = config.storage;
  return createS3Store({ ...location, ...credentials });
}

async function createMailer(config: Config): Promise<Mailer> {
  if (!config.ses) return createOutboxMailer(join(resolve(config.dataDir), 'outbox'));
  const { createSesMailer } = await import('./mail/ses.mailer.ts');
  return createSesMailer(config.ses);
}

async function createSearchEngine(
  config: Config,
  orm: Orm,
): Promise<{ engine: SearchEngine; close(): Promise<void> }> {
  if (config.meili) {
    const { createMeilisearchEngine } = await import('./search/meilisearch.engine.ts');
    return { engine: createMeilisearchEngine(config.meili), close: async () => undefined };
  }
  // The ORM's own pool: one pool of application connections per process (pg-boss keeps its own).
  const pool = await orm.em.getConnection().getNativeClient();
  const { createPostgresEngine } = await import('./search/postgres.engine.ts');
  return { engine: createPostgresEngine(pool), close: async () => undefined };
}

export interface ServiceOptions {
  /** The time as retention sees it (tests move it forward). */
  clock?: () => Date;
}

/** Builds every service once; the GraphQL context hands them to resolvers. No DI container. */
export async function createServices(config: Config, log: Logger, opts: ServiceOptions = {}) {
  if (config.ocr) await checkOcrInstalled(config.ocr);
  const embedded = config.database
    ? null
    : await startEmbeddedPostgres(config.dataDir, config.embeddedPostgres.port, log, {
        // Past its restart window a supervisor (Docker, systemd) does better: start afresh.
        onGiveUp: (err) => {
          log.fatal({ err }, 'the embedded PostgreSQL is gone; exiting');
          process.exit(1);
        },
      });
  const databaseUrl = config.database?.url ?? embedded!.url;
  const orm = await initORM(databaseUrl);
  const metrics = createMetrics();
  const audit = createAuditService({ orm, metrics, log });
  const apiTokens = createApiTokens({ orm, audit, log, cacheSeconds: config.apiTokens.cacheSeconds });
  const auth = createAuthService({
    root: await readRootToken(config.adminToken, config.dataDir),
    apiTokens,
    // jose is loaded only when OIDC is configured.
    oidc: config.oidc ? (await import('./auth/oidc.verifier.ts')).createOidcVerifier(config.oidc, log) : null,
  });
  const store = await createObjectStore(config);
  await store.init();
  const jobs = createJobQueue(databaseUrl, log, config.jobs);
  await jobs.start(queueSpecs(config), { setPolicies: config.jobConcurrency > 0 });
  const events = await createEvents(config.redis?.url ?? null, metrics);
  const rateLimits = await createRateLimits(
    { ...config.rateLimit, redisUrl: config.redis?.url ?? null },
    metrics,
  );
  await rateLimits.ready();
  const uploads = createUploadService({
    store,
    metrics,
    maxBytes: config.uploads.maxBytes,
    maxFiles: config.uploads.maxFiles,
  });
  const signer = createUrlSigner(
    config.files.urlSecret ??
      (await readOrCreateSecret(join(resolve(config.dataDir), 'file-url-secret'))).secret,
    { baseUrl: config.files.publicUrl },
  );
  const downloads = createDownloadService({ store, signer, audit, ttlSeconds: config.files.ttlSeconds });
  const exports = createExportService({ store, signer, audit, ttlSeconds: config.files.ttlSeconds });
  const contacts = createContactService({
    events,
    intake: createIntakeWriter(orm, jobs),
    rateLimits,
    metrics,
    uploads,
    sources: config.contactSources,
  });
  const mailer = await createMailer(config);
  const search = await createSearchEngine(config, orm);
  await search.engine
    .ensureSettings()
    .catch((err) => log.warn({ err }, 'search engine not ready; indexing will retry'));
  const searchService = createSearchService({ engine: search.engine, metrics });
  const documents = createDocumentService({ uploads, jobs, audit, engine: search.engine });
  const repair = createIndexRepair({ orm, engine: search.engine, metrics, log });
  // Extraction and OCR run in child processes with an OS memory cap, started by the first document
  // and ended when idle: a hostile file can kill only its own process, and idle costs no memory.
  const pool = createExtractionPool({ ...config.extraction, log });
  const ocr = config.ocr && {
    pool: createExtractionPool({
      processes: config.ocr.concurrency,
      timeoutMs: ocrTaskTimeoutMs(config.ocr),
      maxMemoryMb: config.ocr.maxMemoryMb,
      idleMs: config.ocr.idleSeconds * 1000,
      ocr: {
        engine: config.ocr.engine,
        languages: config.ocr.languages,
        maxPages: config.ocr.maxPages,
        pageTimeoutMs: config.ocr.pageTimeoutMs,
        dpi: config.ocr.dpi,
      },
      log,
    }),
    maxPages: config.ocr.maxPages,
    concurrency: config.ocr.concurrency,
  };
  const pipeline = createPipeline({
    orm,
    store,
    pool,
    ocr,
    events,
    metrics,
    jobs,
    log,
    mailer,
    mail: config.mail,
    search: searchService,
    repair,
  });

  const erasure = createErasureService({
    orm,
    store,
    engine: search.engine,
    mailer,
    jobs,
    metrics,
    audit,
    auditHashSecret:
      config.privacy.auditHashSecret ??
      (await readOrCreateSecret(join(resolve(config.dataDir), 'audit-hash-secret'))).secret,
    log,
  });
  const retention = createRetention({
    orm,
    erasure,
    policy: {
      retentionDays: config.privacy.retentionDays,
      spamRetentionDays: config.privacy.spamRetentionDays,
    },
    clock: opts.clock ?? (() => new Date()),
    log,
  });

  async function refreshGauges() {
    const up = (p: Promise<unknown>) =>
      p.then(
        () => 1,
        () => 0,
      );
    const [stats, searchUp, databaseUp] = await Promise.all([
      jobs.stats(Object.values(QUEUES)).catch(() => []),
      up(search.engine.health()),
      up(sql`select 1`.execute(orm.em.getKysely())),
    ]);
    for (const s of stats) {
      metrics.queueDepth.set({ queue: s.queue }, s.depth);
      metrics.queueOldestAge.set({ queue: s.queue }, s.oldestAgeSeconds);
    }
    metrics.searchEngineUp.set(searchUp);
    // Sampled at every scrape, not only on /ready: DossierDatabaseDown reads it.
    metrics.databaseUp.set(databaseUp);
  }

  async function readiness() {
    const database = await sql`select 1`
      .execute(orm.em.getKysely())
      .then(async () => ((await migrationsApplied(orm)) ? 'up' : 'migrations pending'))
      .catch(() => 'down');
    metrics.databaseUp.set(database === 'up' ? 1 : 0);
    const storage = await store.health().then(
      () => 'up',
      () => 'down',
    );
    const searchState = await search.engine.health().then(
      () => 'up',
      () => 'down',
    );
    return {
      ready: database === 'up',
      dependencies: { database, storage, search: searchState, events: await events.health() },
    };
  }

  /** Liveness: false only while the embedded PostgreSQL (part of this process) is down. */
  function health() {
    const up = embedded?.up ?? true;
    return { ok: up, embeddedDatabase: embedded ? (up ? 'up' : 'restarting') : null };
  }

  return {
    config,
    log,
    health,
    orm,
    metrics,
    auth,
    audit,
    apiTokens,
    store,
    jobs,
    events,
    uploads,
    documents,
    contacts,
    /** The staff lists, keyset-paged (ContactRepository.inbox, DocumentRepository.inbox). */
    inbox: {
      contacts: (em: EntityManager) => em.getRepository(ContactEntity).inbox,
      documents: (em: EntityManager) => em.getRepository(DocumentEntity).inbox,
    },
    signer,
    downloads,
    exports,
    triage: createContactTriage({ audit }),
    mailer,
    search: searchService,
    repair,
    pipeline,
    erasure,
    retention,
    readiness,
    refreshGauges,
    async close() {
      await jobs.stop().catch((err) => log.error({ err }, 'stopping the job queue'));
      await pool.close();
      await ocr?.pool.close();
      await search.close();
      await events.close();
      await rateLimits.close();
      await orm.close(true);
      if (embedded) await embedded.stop();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
