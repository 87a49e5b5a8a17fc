import { describe, expect, it } from 'vitest';
import { ocrTaskTimeoutMs } from '../../src/services/extraction/ocr/ocr.ts';
import { QUEUES, type QueueSettings, queueSpecs } from '../../src/services/jobs/queues.ts';

const settings = (over: Partial<QueueSettings> = {}): QueueSettings => ({
  jobConcurrency: 1,
  extraction: { processes: 1, timeoutMs: 30_000, retries: 3, retryDelaySeconds: 2 },
  mail: { retryDelaySeconds: 5 },
  ocr: { maxPages: 20, pageTimeoutMs: 30_000, concurrency: 1 },
  privacy: { erasureTimeoutSeconds: 60 },
  ...over,
});
const expiry = (s: QueueSettings, queue: string) =>
  queueSpecs(s).find((q) => q.name === queue)!.expireInSeconds;

describe('queue expiries', () => {
  // Extraction runs at idle priority: its limit is CPU time, and a busy host may stretch it to three
  // times as much wall time before the document is given up as starved. The job must outlive that.
  it('lets an extraction job outlive its documents wall limit: 3 x the CPU limit per round, plus 10 s', () => {
    expect(expiry(settings(), QUEUES.extract)).toBe(3 * 30 + 10);
    // Four jobs at once on two processes: each may wait for one extraction ahead of its own.
    const busier = settings({
      jobConcurrency: 4,
      extraction: { processes: 2, timeoutMs: 5_000, retries: 3, retryDelaySeconds: 2 },
    });
    expect(expiry(busier, QUEUES.extract)).toBe(2 * 3 * 5 + 10);
    // The wall limit is at least a second.
    const tiny = settings({ extraction: { processes: 1, timeoutMs: 100, retries: 3, retryDelaySeconds: 2 } });
    expect(expiry(tiny, QUEUES.extract)).toBe(1 + 10);
  });

  it('lets an OCR job outlive three times its whole CPU budget (every page, and the engine start)', () => {
    const budgetMs = ocrTaskTimeoutMs({ maxPages: 20, pageTimeoutMs: 30_000 });
    expect(budgetMs).toBeGreaterThan(20 * 30_000);
    expect(expiry(settings(), QUEUES.ocr)).toBe(Math.ceil((3 * budgetMs) / 1000) + 10);
  });
});
