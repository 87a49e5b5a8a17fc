import type { QueueSpec } from './job-queue.ts';

export const QUEUES = {
  extract: 'document-extract',
  extractFailed: 'document-extract-failed',
  index: 'document-index',
  notify: 'contact-notify',
  notifyFailed: 'contact-notify-failed',
  repairIndex: 'search-repair',
} as const;

/** The queues and their retry policies; the notification's first retry delay is configurable. */
export const queueSpecs = (opts: { notifyRetryDelaySeconds: number }): QueueSpec[] => [
  {
    name: QUEUES.extract,
    retryLimit: 3,
    retryDelaySeconds: 2,
    expireInSeconds: 120,
    deadLetter: QUEUES.extractFailed,
  },
  // Indexing waits out an engine outage: many tries, backing off.
  { name: QUEUES.index, retryLimit: 50, retryDelaySeconds: 2, expireInSeconds: 120 },
  {
    name: QUEUES.notify,
    retryLimit: 8,
    retryDelaySeconds: opts.notifyRetryDelaySeconds,
    expireInSeconds: 180,
    deadLetter: QUEUES.notifyFailed,
  },
  { name: QUEUES.repairIndex, retryLimit: 0, retryDelaySeconds: 60, expireInSeconds: 600 },
];
