import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('runs on embedded defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 4000, trustProxy: false });
    expect(c.database).toBeNull();
    expect(c.storage).toBeNull();
    expect(c.meili).toBeNull();
    expect(c.ses).toBeNull();
    expect(c.redis).toBeNull();
    expect(c.adminToken).toBeNull();
    expect(c.uploads).toEqual({ maxBytes: 25 * 1024 * 1024, maxFiles: 5 });
    expect(c.rateLimit).toEqual({ perClientPerMinute: 20, globalPerMinute: 600 });
    expect(c.graphiql).toBe(true);
    expect(c.mail.concurrency).toBe(8);
    expect(c.files).toEqual({ urlSecret: null, ttlSeconds: 300, publicUrl: null });
  });

  it('keeps contacts forever by default except SPAM (30 days); "never" keeps SPAM too', () => {
    expect(loadConfig({}).privacy).toMatchObject({ retentionDays: null, spamRetentionDays: 30 });
    expect(loadConfig({ RETENTION_DAYS: '365', SPAM_RETENTION_DAYS: 'never' }).privacy).toMatchObject({
      retentionDays: 365,
      spamRetentionDays: null,
    });
    for (const bad of [
      { RETENTION_DAYS: '0' },
      { SPAM_RETENTION_DAYS: 'soon' },
      { AUDIT_HASH_SECRET: 'short' },
    ])
      expect(() => loadConfig(bad)).toThrow(Object.keys(bad)[0]);
  });

  it('reads JOB_CONCURRENCY, and WORKERS (its former name) when it is unset', () => {
    expect(loadConfig({}).jobConcurrency).toBe(1);
    expect(loadConfig({ WORKERS: '0' }).jobConcurrency).toBe(0);
    expect(loadConfig({ JOB_CONCURRENCY: '3', WORKERS: '0' }).jobConcurrency).toBe(3);
  });

  it('polls for jobs every 2 s by default, no more often than every 0.5 s', () => {
    expect(loadConfig({}).jobs).toEqual({ maintenanceSeconds: 30, pollSeconds: 2 });
    expect(loadConfig({ JOB_POLL_SECONDS: '0.5' }).jobs.pollSeconds).toBe(0.5);
    for (const bad of ['0.1', '61', 'often'])
      expect(() => loadConfig({ JOB_POLL_SECONDS: bad })).toThrow('JOB_POLL_SECONDS');
  });

  it('names every bad variable in one error', () => {
    let message = '';
    try {
      loadConfig({
        PORT: '70000',
        MAX_FILES: '-1',
        DATABASE_URL: 'nope',
        ADMIN_TOKEN: 'short',
        TRUST_PROXY: 'maybe',
        MAIL_CONCURRENCY: '0',
        FILE_URL_SECRET: 'too-short',
        DOWNLOAD_URL_TTL_SECONDS: '0',
        PUBLIC_URL: 'api.example.com',
      });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    for (const name of [
      'PORT',
      'MAX_FILES',
      'DATABASE_URL',
      'ADMIN_TOKEN',
      'TRUST_PROXY',
      'MAIL_CONCURRENCY',
      'FILE_URL_SECRET',
      'DOWNLOAD_URL_TTL_SECONDS',
      'PUBLIC_URL',
    ])
      expect(message).toContain(name);
  });

  it('wants an S3 endpoint and bucket together, and keys both or none (none: the instance role)', () => {
    expect(() => loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000' })).toThrow(
      /S3_BUCKET: required when S3_ENDPOINT is set/,
    );
    expect(() =>
      loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'docs', S3_ACCESS_KEY: 'a' }),
    ).toThrow(/S3_SECRET_KEY: required when S3_ACCESS_KEY is set/);
    expect(() => loadConfig({ S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b' })).toThrow(
      /S3_ENDPOINT, S3_BUCKET: required when S3_ACCESS_KEY, S3_SECRET_KEY is set/,
    );
    const c = loadConfig({
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY: 'a',
      S3_SECRET_KEY: 'b',
      S3_BUCKET: 'docs',
    });
    expect(c.storage).toMatchObject({
      kind: 's3',
      bucket: 'docs',
      credentials: { accessKey: 'a', secretKey: 'b' },
    });
    const role = loadConfig({ S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com', S3_BUCKET: 'docs' });
    expect(role.storage).toMatchObject({ kind: 's3', bucket: 'docs', credentials: null });
  });

  it('reads the backup off-host copy like the store, region defaulting to S3_REGION', () => {
    expect(loadConfig({}).backup.offsite).toBeNull();
    const c = loadConfig({
      S3_REGION: 'eu-west-1',
      BACKUP_S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com',
      BACKUP_S3_BUCKET: 'dossier-backups',
    });
    expect(c.backup.offsite).toEqual({
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      bucket: 'dossier-backups',
      region: 'eu-west-1',
      credentials: null,
    });
    expect(() => loadConfig({ BACKUP_S3_BUCKET: 'dossier-backups' })).toThrow(/BACKUP_S3_ENDPOINT: required/);
  });

  it('turns GraphiQL off in production unless asked', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'true' }).graphiql).toBe(true);
  });

  it('splits MAIL_TO and checks each address', () => {
    expect(loadConfig({ MAIL_TO: 'a@example.com, b@example.com' }).mail.to).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
    expect(() => loadConfig({ MAIL_TO: 'a@example.com, nope' })).toThrow(/MAIL_TO/);
  });

  it('takes OIDC with its audience, asymmetric algorithms only', () => {
    expect(loadConfig({}).oidc).toBeNull();
    expect(() => loadConfig({ OIDC_ISSUER: 'https://id.example.com' })).toThrow(/OIDC_AUDIENCE: required/);
    for (const alg of ['HS256', 'none', 'RS256,HS512'])
      expect(() =>
        loadConfig({ OIDC_ISSUER: 'https://id.example.com', OIDC_AUDIENCE: 'dossier', OIDC_ALGORITHMS: alg }),
      ).toThrow(/OIDC_ALGORITHMS/);
    const c = loadConfig({
      OIDC_ISSUER: 'https://id.example.com',
      OIDC_AUDIENCE: 'dossier',
      OIDC_ALGORITHMS: 'RS256, ES256',
    });
    expect(c.oidc).toMatchObject({
      issuer: 'https://id.example.com',
      audience: 'dossier',
      algorithms: ['RS256', 'ES256'],
      clockToleranceSeconds: 30,
      scopeClaims: ['scope', 'scp'],
    });
    expect(c.apiTokens.cacheSeconds).toBe(5);
  });

  it('turns OCR on with tesseract.js and English by default, off with OCR_ENGINE=off', () => {
    expect(loadConfig({}).ocr).toEqual({
      engine: 'tesseract.js',
      languages: ['eng'],
      maxPages: 20,
      pageTimeoutMs: 30_000,
      dpi: 200,
      concurrency: 1,
      maxMemoryMb: 1024,
      idleSeconds: 60,
    });
    expect(loadConfig({ OCR_ENGINE: 'off' }).ocr).toBeNull();
    expect(loadConfig({ OCR_ENGINE: 'tesseract', OCR_LANGUAGES: 'eng+deu,chi_sim' }).ocr).toMatchObject({
      engine: 'tesseract',
      languages: ['eng', 'deu', 'chi_sim'],
    });
  });

  it('runs extraction in child processes that end when idle; EXTRACTION_THREADS is the former name', () => {
    expect(loadConfig({}).extraction).toEqual({
      processes: 1,
      timeoutMs: 30_000,
      maxMemoryMb: 256,
      idleMs: 60_000,
      retries: 3,
      retryDelaySeconds: 2,
    });
    expect(loadConfig({ EXTRACTION_THREADS: '3' }).extraction.processes).toBe(3);
    expect(loadConfig({ EXTRACTION_PROCESSES: '2', EXTRACTION_THREADS: '3' }).extraction.processes).toBe(2);
    expect(loadConfig({ EXTRACTION_IDLE_SECONDS: '5' }).extraction.idleMs).toBe(5000);
    expect(() => loadConfig({ EXTRACTION_PROCESSES: '0' })).toThrow(/EXTRACTION_PROCESSES/);
  });

  it('takes only language codes in OCR_LANGUAGES: they become file names and arguments', () => {
    for (const bad of ['../etc', 'eng;rm', 'e', '--psm']) {
      expect(() => loadConfig({ OCR_LANGUAGES: bad })).toThrow(/OCR_LANGUAGES/);
    }
    expect(() => loadConfig({ OCR_ENGINE: 'ocrmypdf' })).toThrow(/OCR_ENGINE/);
  });

  it('reads CORS_ORIGINS as origins: any outside production when unset, none in production', () => {
    expect(loadConfig({}).http.corsOrigins).toBeNull();
    expect(loadConfig({ NODE_ENV: 'production' }).http.corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://b.example:8080' }).http.corsOrigins).toEqual(
      ['https://a.example', 'http://b.example:8080'],
    );
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS/);
    expect(loadConfig({}).contactSources).toEqual(['website']);
  });
});
