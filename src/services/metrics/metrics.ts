import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { DENIAL_REASONS } from '../../context.ts';

/** Every domain metric, on one registry that /metrics serves; names are the operators' contract (alerts/, dashboards/). */
export function createMetrics() {
  const registry = new Registry();
  // The event-loop delay is sampled every 100 ms, not prom-client's 10: a timer waking an idle process
  // 100 times a second cost ~20 ms of CPU per second here, and the lag alert's threshold is 500 ms.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const registers = [registry];
  const metrics = {
    registry,
    graphqlErrors: new Counter({
      name: 'dossier_graphql_errors_total',
      help: 'GraphQL errors by operation and extensions.code',
      labelNames: ['operationName', 'operationType', 'code'] as const,
      registers,
    }),
    contacts: new Counter({
      name: 'dossier_contacts_total',
      help: 'Contacts stored, by source (CONTACT_SOURCES, else other)',
      labelNames: ['source'] as const,
      registers,
    }),
    honeypot: new Counter({
      name: 'dossier_honeypot_total',
      help: 'Submissions discarded by the honeypot',
      registers,
    }),
    rateLimited: new Counter({
      name: 'dossier_rate_limited_total',
      help: 'Submissions refused by a rate limit',
      labelNames: ['scope'] as const,
      registers,
    }),
    erasedContacts: new Counter({
      name: 'dossier_erased_contacts_total',
      help: 'Contacts erased with everything they left in every store, by why (request, retention)',
      labelNames: ['reason'] as const,
      registers,
    }),
    erasuresFailed: new Counter({
      name: 'dossier_erasures_failed_total',
      help: 'Erasures that ran out of retries (FAILED; asking again resumes them)',
      registers,
    }),
    uploads: new Counter({ name: 'dossier_uploads_total', help: 'Files stored', registers }),
    uploadBytes: new Counter({ name: 'dossier_upload_bytes_total', help: 'Bytes stored', registers }),
    uploadsRefused: new Counter({
      name: 'dossier_uploads_refused_total',
      help: 'Files refused',
      labelNames: ['reason'] as const,
      registers,
    }),
    extractionDuration: new Histogram({
      name: 'dossier_extraction_duration_seconds',
      help: 'Text extraction time per document',
      labelNames: ['type'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    ocrDuration: new Histogram({
      name: 'dossier_ocr_duration_seconds',
      help: 'OCR time per document (rendering and recognising its pages without a text layer)',
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    ocrPages: new Counter({ name: 'dossier_ocr_pages_total', help: 'Pages recognised by OCR', registers }),
    extractionFailures: new Counter({
      name: 'dossier_extraction_failures_total',
      help: 'Extraction failures',
      labelNames: ['reason'] as const,
      registers,
    }),
    documentsProcessed: new Counter({
      name: 'dossier_documents_processed_total',
      help: 'Documents that reached a final status',
      labelNames: ['status'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'dossier_job_queue_depth',
      help: 'Jobs waiting',
      labelNames: ['queue'] as const,
      registers,
    }),
    queueOldestAge: new Gauge({
      name: 'dossier_job_oldest_age_seconds',
      help: 'Age of the oldest waiting job',
      labelNames: ['queue'] as const,
      registers,
    }),
    searchDuration: new Histogram({
      name: 'dossier_search_duration_seconds',
      help: 'Search engine time per query',
      labelNames: ['engine'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    searchZeroHits: new Counter({
      name: 'dossier_search_zero_hits_total',
      help: 'Searches with no hit',
      registers,
    }),
    searchStaleHits: new Counter({
      name: 'dossier_search_stale_hits_dropped_total',
      help: 'Hits dropped because their document is gone',
      registers,
    }),
    searchEngineUp: new Gauge({
      name: 'dossier_search_engine_up',
      help: '1 when the search engine answers',
      registers,
    }),
    indexDrift: new Gauge({
      name: 'dossier_index_drift_documents',
      help: 'Documents missing from or stale in the search index at the last check',
      registers,
    }),
    emailsSent: new Counter({
      name: 'dossier_emails_sent_total',
      help: 'Emails sent',
      labelNames: ['kind'] as const,
      registers,
    }),
    emailsFailed: new Counter({
      name: 'dossier_emails_failed_total',
      help: 'Email attempts that failed',
      labelNames: ['kind', 'permanent'] as const,
      registers,
    }),
    subscriptionsActive: new Gauge({
      name: 'dossier_subscriptions_active',
      help: 'Open subscriptions',
      labelNames: ['transport'] as const,
      registers,
    }),
    databaseUp: new Gauge({ name: 'dossier_database_up', help: '1 when PostgreSQL answers', registers }),
    authDenials: new Counter({
      name: 'dossier_auth_denials_total',
      help: 'Staff requests refused, by reason (a bounded list)',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
  startAtZero(metrics);
  return metrics;
}

/** Known label sets exist from the first scrape at 0, so rate() and increase() see the first event. */
function startAtZero(m: Metrics) {
  for (const scope of ['client', 'global']) m.rateLimited.inc({ scope }, 0);
  for (const reason of ['too_large', 'too_many', 'type', 'malformed', 'aborted', 'error'])
    m.uploadsRefused.inc({ reason }, 0);
  for (const reason of ['malformed', 'timeout', 'memory', 'unsupported', 'page_limit', 'retries_exhausted'])
    m.extractionFailures.inc({ reason }, 0);
  for (const status of ['COMPLETED', 'FAILED']) m.documentsProcessed.inc({ status }, 0);
  for (const kind of ['notification', 'acknowledgement']) {
    m.emailsSent.inc({ kind }, 0);
    for (const permanent of ['true', 'false']) m.emailsFailed.inc({ kind, permanent }, 0);
  }
  for (const transport of ['ws', 'sse']) m.subscriptionsActive.set({ transport }, 0);
  for (const reason of DENIAL_REASONS) m.authDenials.inc({ reason }, 0);
}

export type Metrics = ReturnType<typeof createMetrics>;
