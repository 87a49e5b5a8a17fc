import { wallLimitMs } from '../extraction/cpu-deadline.ts';
import { type OcrSettings, ocrTaskTimeoutMs } from '../extraction/ocr/ocr.ts';
import type { QueueSpec } from './job-queue.ts';

export const QUEUES = {
  extract: 'document-extract',
  extractFailed: 'document-extract-failed',
  ocr: 'document-ocr',
  index: 'document-index',
  notify: 'contact-notify',
  notifyFailed: 'contact-notify-failed',
  repairIndex: 'search-repair',
  erase: 'contact-erase',
  retention: 'contact-retention',
} as const;

/** The data of a `contact-notify` job: the contacts of one committed intake batch. */
export interface NotifyJob {
  contactIds: string[];
}

export interface QueueSettings {
  jobConcurrency: number;
  extraction: { processes: number; timeoutMs: number; retries: number; retryDelaySeconds: number };
  mail: { retryDelaySeconds: number };
  ocr: (Pick<OcrSettings, 'maxPages' | 'pageTimeoutMs'> & { concurrency: number }) | null;
  privacy: { erasureTimeoutSeconds: number };
}

/** Time beyond the extraction limit itself for reading the object, starting a process and saving the result. */
const EXTRACTION_MARGIN_SECONDS = 10;

/**
 * How long an extraction job may stay active before the queue presumes its process dead and runs it
 * again: the extractions queued ahead of it in this process's pool, its own, and a margin. Each may
 * take its wall limit (three times its CPU limit) when the host is busy: extraction runs at idle priority.
 */
export function extractionExpirySeconds(s: QueueSettings): number {
  const rounds = Math.ceil(Math.max(1, s.jobConcurrency) / s.extraction.processes);
  return Math.ceil((rounds * wallLimitMs(s.extraction.timeoutMs)) / 1000) + EXTRACTION_MARGIN_SECONDS;
}

/**
 * The queues and their retry policy. A job keeps the expiry its queue had when it was enqueued; the
 * processes that run jobs set the policy (the last one started wins): give them the same settings.
 */
export function queueSpecs(s: QueueSettings): QueueSpec[] {
  return [
    {
      name: QUEUES.extract,
      retryLimit: s.extraction.retries,
      retryDelaySeconds: s.extraction.retryDelaySeconds,
      expireInSeconds: extractionExpirySeconds(s),
      deadLetter: QUEUES.extractFailed,
    },
    // OCR has its own queue and processes, so scans never hold up the text documents behind them.
    {
      name: QUEUES.ocr,
      retryLimit: s.extraction.retries,
      retryDelaySeconds: s.extraction.retryDelaySeconds,
      // One OCR process per OCR job of a process: no task waits for a process.
      expireInSeconds:
        Math.ceil(wallLimitMs(ocrTaskTimeoutMs(s.ocr ?? { maxPages: 1, pageTimeoutMs: 1 })) / 1000) +
        EXTRACTION_MARGIN_SECONDS,
      deadLetter: QUEUES.extractFailed,
    },
    // Indexing waits out an engine outage: many tries, backing off.
    { name: QUEUES.index, retryLimit: 50, retryDelaySeconds: 2, expireInSeconds: 120 },
    {
      name: QUEUES.notify,
      retryLimit: 8,
      retryDelaySeconds: s.mail.retryDelaySeconds,
      expireInSeconds: 180,
      deadLetter: QUEUES.notifyFailed,
    },
    // Scheduled (every 15 minutes), never enqueued by a request: a minute's delay costs nothing.
    { name: QUEUES.repairIndex, retryLimit: 0, retryDelaySeconds: 60, expireInSeconds: 600, pollSeconds: 60 },
    // An erasure waits out a store's outage or a notification in flight: many tries, backing off.
    {
      name: QUEUES.erase,
      retryLimit: 20,
      retryDelaySeconds: 2,
      expireInSeconds: s.privacy.erasureTimeoutSeconds,
    },
    { name: QUEUES.retention, retryLimit: 2, retryDelaySeconds: 60, expireInSeconds: 600, pollSeconds: 60 },
  ];
}
