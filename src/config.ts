import { z } from 'zod';
import { OCR_ENGINES } from './services/extraction/ocr/ocr.ts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = z.url();
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
);
// Never `none` or HS*: with a public key set, an HMAC algorithm would take the public key as its secret.
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
const origin = z.url().refine((u) => new URL(u).origin === u, 'must be an origin: scheme://host[:port]');

const env = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./.data'),
  DATABASE_URL: url.optional(),
  EMBEDDED_PG_PORT: port.optional(),
  S3_ENDPOINT: url.optional(),
  S3_ACCESS_KEY: z.string().min(1).optional(),
  S3_SECRET_KEY: z.string().min(1).optional(),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  BACKUP_S3_ENDPOINT: url.optional(),
  BACKUP_S3_BUCKET: z.string().min(3).max(63).optional(),
  BACKUP_S3_REGION: z.string().min(1).optional(),
  BACKUP_S3_ACCESS_KEY: z.string().min(1).optional(),
  BACKUP_S3_SECRET_KEY: z.string().min(1).optional(),
  MEILI_URL: url.optional(),
  MEILI_API_KEY: z.string().min(1).optional(),
  MEILI_INDEX: z.string().min(1).default('documents'),
  SES_REGION: z.string().min(1).optional(),
  SES_ENDPOINT: url.optional(),
  MAIL_FROM: z.email().default('dossier@localhost.localdomain'),
  MAIL_TO: z
    .string()
    .default('owner@localhost.localdomain')
    .transform((s) => s.split(',').map((a) => a.trim()))
    .pipe(z.array(z.email()).min(1)),
  MAIL_ACKNOWLEDGE: bool.default(false),
  NOTIFY_WAIT_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  NOTIFY_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  MAIL_CONCURRENCY: positiveInt.max(64).default(8),
  REDIS_URL: url.optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  FILE_URL_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DOWNLOAD_URL_TTL_SECONDS: positiveInt.max(604_800, 'must be at most 604800 (7 days)').default(300),
  PUBLIC_URL: url.optional(),
  API_TOKEN_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  OIDC_ISSUER: url.optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_ALGORITHMS: list
    .pipe(
      z.array(z.enum(ASYMMETRIC_ALGORITHMS, 'must be asymmetric algorithms (RS*, PS*, ES*, EdDSA)')).min(1),
    )
    .default(['RS256']),
  OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  OIDC_JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  OIDC_JWKS_MAX_AGE_SECONDS: positiveInt.max(86_400).default(600),
  OIDC_SCOPE_CLAIMS: list.pipe(z.array(z.string().min(1)).min(1)).default(['scope', 'scp']),
  MAX_UPLOAD_BYTES: positiveInt.default(25 * 1024 * 1024),
  MAX_FILES: positiveInt.max(100).default(5),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(20),
  RATE_LIMIT_GLOBAL_PER_MINUTE: positiveInt.default(600),
  TRUST_PROXY: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GRAPHIQL: bool.optional(),
  // Jobs this process runs at once (0: none, an API-only process). WORKERS is its former name.
  JOB_CONCURRENCY: z.coerce.number().int().min(0).max(64).optional(),
  WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  EXTRACTION_PROCESSES: positiveInt.max(16).optional(),
  // EXTRACTION_THREADS is the former name of EXTRACTION_PROCESSES (extraction ran in threads).
  EXTRACTION_THREADS: positiveInt.max(16).optional(),
  EXTRACTION_TIMEOUT_MS: positiveInt.default(30_000),
  EXTRACTION_MAX_MEMORY_MB: positiveInt
    .min(48, 'must be at least 48 (a process needs about 32 MB of heap to start)')
    .default(256),
  EXTRACTION_IDLE_SECONDS: positiveInt.max(86_400).default(60),
  EXTRACTION_RETRIES: z.coerce.number().int().min(0).max(20).default(3),
  EXTRACTION_RETRY_DELAY_SECONDS: positiveInt.max(3600).default(2),
  OCR_ENGINE: z.enum([...OCR_ENGINES, 'off']).default('tesseract.js'),
  OCR_LANGUAGES: z
    .string()
    .default('eng')
    .transform((s) => s.split(/[+,]/).map((l) => l.trim()))
    // Each code becomes a package name, a file name and a command argument: letters and one underscore only.
    .pipe(
      z
        .array(
          z.string().regex(/^[a-z]{3,8}(_[a-z]{2,8})?$/i, 'a Tesseract language code like eng or chi_sim'),
        )
        .min(1)
        .max(10),
    ),
  OCR_MAX_PAGES: positiveInt.max(1000).default(20),
  OCR_PAGE_TIMEOUT_MS: positiveInt.max(600_000).default(30_000),
  OCR_CONCURRENCY: positiveInt.max(16).default(1),
  OCR_MAX_MEMORY_MB: positiveInt.min(256, 'must be at least 256 (the engine and a page image)').default(1024),
  OCR_DPI: z.coerce.number().int().min(72).max(600).default(200),
  OCR_IDLE_SECONDS: positiveInt.max(86_400).default(60),
  JOB_MAINTENANCE_SECONDS: positiveInt.max(3600).default(30),
  JOB_POLL_SECONDS: z.coerce.number().min(0.5).max(60).default(2),
  METRICS: bool.default(true),
  METRICS_PORT: port.optional(),
  METRICS_TOKEN: z.string().min(16).optional(),
  // Each named operation costs about 46 series on every scrape: 30 keeps a made-up-name attack under 2,000.
  METRICS_OPERATION_CAP: positiveInt.default(30),
  METRICS_KNOWN_OPERATIONS: list.optional(),
  CORS_ORIGINS: list.pipe(z.array(origin)).optional(),
  CONTACT_SOURCES: list.pipe(z.array(z.string().min(1).max(64)).min(1)).default(['website']),
  WS_CONNECTIONS_PER_ADDRESS: positiveInt.max(10_000).default(20),
  HTTP_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).optional(),
  HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(10_000),
  // 25 MiB at 1 Mbit/s takes about 210 s.
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(300_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(5_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  ERASURE_TIMEOUT_SECONDS: positiveInt.max(86_400).default(300),
  RETENTION_DAYS: positiveInt.max(36_500).optional(),
  SPAM_RETENTION_DAYS: z.union([z.literal('never'), positiveInt.max(36_500)]).default(30),
  AUDIT_HASH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
});

export type Env = z.input<typeof env>;

/** Static keys when both are set; null means the instance role (IMDS) or the AWS environment. */
const keys = (accessKey?: string, secretKey?: string) =>
  accessKey && secretKey ? { accessKey, secretKey } : null;

function build(e: z.output<typeof env>) {
  return {
    env: e.NODE_ENV,
    http: {
      host: e.HOST,
      port: e.PORT,
      trustProxy: e.TRUST_PROXY,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      // Unset: any origin outside production, none in production.
      corsOrigins: e.CORS_ORIGINS ?? (e.NODE_ENV === 'production' ? [] : null),
      wsConnectionsPerAddress: e.WS_CONNECTIONS_PER_ADDRESS,
      limits: {
        headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
        requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
        keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        // Behind a trusted proxy every TCP connection comes from it: the proxy caps clients instead.
        connectionsPerAddress: e.HTTP_CONNECTIONS_PER_ADDRESS ?? (e.TRUST_PROXY ? 0 : 64),
      },
    },
    dataDir: e.DATA_DIR,
    database: e.DATABASE_URL ? { url: e.DATABASE_URL } : null,
    embeddedPostgres: { port: e.EMBEDDED_PG_PORT ?? null },
    storage:
      e.S3_ENDPOINT && e.S3_BUCKET
        ? {
            kind: 's3' as const,
            endpoint: e.S3_ENDPOINT,
            bucket: e.S3_BUCKET,
            region: e.S3_REGION,
            credentials: keys(e.S3_ACCESS_KEY, e.S3_SECRET_KEY),
          }
        : null,
    // The scheduled backup's off-host copy (npm run backup -- --dir ... --every ...).
    backup: {
      offsite:
        e.BACKUP_S3_ENDPOINT && e.BACKUP_S3_BUCKET
          ? {
              endpoint: e.BACKUP_S3_ENDPOINT,
              bucket: e.BACKUP_S3_BUCKET,
              region: e.BACKUP_S3_REGION ?? e.S3_REGION,
              credentials: keys(e.BACKUP_S3_ACCESS_KEY, e.BACKUP_S3_SECRET_KEY),
            }
          : null,
    },
    meili: e.MEILI_URL ? { url: e.MEILI_URL, apiKey: e.MEILI_API_KEY, index: e.MEILI_INDEX } : null,
    ses: e.SES_REGION ? { region: e.SES_REGION, endpoint: e.SES_ENDPOINT } : null,
    mail: {
      from: e.MAIL_FROM,
      to: e.MAIL_TO,
      acknowledge: e.MAIL_ACKNOWLEDGE,
      waitSeconds: e.NOTIFY_WAIT_SECONDS,
      retryDelaySeconds: e.NOTIFY_RETRY_DELAY_SECONDS,
      concurrency: e.MAIL_CONCURRENCY,
    },
    redis: e.REDIS_URL ? { url: e.REDIS_URL } : null,
    adminToken: e.ADMIN_TOKEN ?? null,
    apiTokens: { cacheSeconds: e.API_TOKEN_CACHE_SECONDS },
    // Signed download links: disk-store links are answered by this server's /files route.
    files: {
      urlSecret: e.FILE_URL_SECRET ?? null,
      ttlSeconds: e.DOWNLOAD_URL_TTL_SECONDS,
      publicUrl: e.PUBLIC_URL ?? null,
    },
    oidc: e.OIDC_ISSUER
      ? {
          issuer: e.OIDC_ISSUER,
          audience: e.OIDC_AUDIENCE!,
          algorithms: e.OIDC_ALGORITHMS,
          clockToleranceSeconds: e.OIDC_CLOCK_TOLERANCE_SECONDS,
          jwksCooldownSeconds: e.OIDC_JWKS_COOLDOWN_SECONDS,
          jwksMaxAgeSeconds: e.OIDC_JWKS_MAX_AGE_SECONDS,
          scopeClaims: e.OIDC_SCOPE_CLAIMS,
        }
      : null,
    // The values counted under their own name in dossier_contacts_total; any other source is `other`.
    contactSources: e.CONTACT_SOURCES,
    uploads: { maxBytes: e.MAX_UPLOAD_BYTES, maxFiles: e.MAX_FILES },
    rateLimit: {
      perClientPerMinute: e.RATE_LIMIT_PER_MINUTE,
      globalPerMinute: e.RATE_LIMIT_GLOBAL_PER_MINUTE,
    },
    logLevel: e.LOG_LEVEL,
    graphiql: e.GRAPHIQL ?? e.NODE_ENV !== 'production',
    jobConcurrency: e.JOB_CONCURRENCY ?? e.WORKERS ?? 1,
    extraction: {
      processes: e.EXTRACTION_PROCESSES ?? e.EXTRACTION_THREADS ?? 1,
      timeoutMs: e.EXTRACTION_TIMEOUT_MS,
      maxMemoryMb: e.EXTRACTION_MAX_MEMORY_MB,
      idleMs: e.EXTRACTION_IDLE_SECONDS * 1000,
      retries: e.EXTRACTION_RETRIES,
      retryDelaySeconds: e.EXTRACTION_RETRY_DELAY_SECONDS,
    },
    ocr:
      e.OCR_ENGINE === 'off'
        ? null
        : {
            engine: e.OCR_ENGINE,
            languages: e.OCR_LANGUAGES,
            maxPages: e.OCR_MAX_PAGES,
            pageTimeoutMs: e.OCR_PAGE_TIMEOUT_MS,
            dpi: e.OCR_DPI,
            concurrency: e.OCR_CONCURRENCY,
            maxMemoryMb: e.OCR_MAX_MEMORY_MB,
            idleSeconds: e.OCR_IDLE_SECONDS,
          },
    privacy: {
      // How long one erasure run may take before its process is presumed dead and the job runs again.
      erasureTimeoutSeconds: e.ERASURE_TIMEOUT_SECONDS,
      // Age (from intake) past which ARCHIVED and SPAM contacts are erased; null keeps them.
      retentionDays: e.RETENTION_DAYS ?? null,
      spamRetentionDays: e.SPAM_RETENTION_DAYS === 'never' ? null : e.SPAM_RETENTION_DAYS,
      // Keys the hash of an erased address in the audit log; generated in DATA_DIR when unset.
      auditHashSecret: e.AUDIT_HASH_SECRET ?? null,
    },
    // How often stalled jobs (their process died) are found and retried, among other queue upkeep; how
    // often an idle worker looks for jobs of other processes, retries and scheduled jobs.
    jobs: { maintenanceSeconds: e.JOB_MAINTENANCE_SECONDS, pollSeconds: e.JOB_POLL_SECONDS },
    metrics: e.METRICS
      ? {
          port: e.METRICS_PORT ?? null,
          token: e.METRICS_TOKEN ?? null,
          // On the public port: never beside METRICS_PORT; in production only behind METRICS_TOKEN.
          onPublicPort:
            e.METRICS_PORT === undefined && (e.NODE_ENV !== 'production' || Boolean(e.METRICS_TOKEN)),
          operationCap: e.METRICS_OPERATION_CAP,
          knownOperations: e.METRICS_KNOWN_OPERATIONS ?? null,
        }
      : null,
  };
}

export type Config = ReturnType<typeof build>;

export class ConfigError extends Error {}

/** Parses the environment; every bad variable is named in one error. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = env.safeParse(present);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  if (parsed.success) {
    if (present.OIDC_ISSUER && !present.OIDC_AUDIENCE)
      problems.push(
        '  OIDC_AUDIENCE: required when OIDC_ISSUER is set (tokens meant for other services must not pass)',
      );
    // Each group is all or nothing; keys need a location (without keys, the instance role signs).
    for (const prefix of ['S3', 'BACKUP_S3']) {
      const location = [`${prefix}_ENDPOINT`, `${prefix}_BUCKET`];
      const credentials = [`${prefix}_ACCESS_KEY`, `${prefix}_SECRET_KEY`];
      for (const group of [location, credentials]) {
        const given = group.filter((k) => present[k]);
        if (given.length > 0 && given.length < group.length)
          problems.push(
            `  ${group.filter((k) => !present[k]).join(', ')}: required when ${given.join(', ')} is set`,
          );
      }
      if (credentials.some((k) => present[k]) && !location.some((k) => present[k]))
        problems.push(`  ${location.join(', ')}: required when ${credentials.join(', ')} is set`);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  return build(parsed.data);
}

/** For entry points: the configuration, or the error printed and exit 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
