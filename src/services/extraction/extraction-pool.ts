import { isMarkedAsUntransferable, MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { type ExtractableType, type ExtractedText, ExtractionError, type Insights } from './extraction.ts';
import type { ExtractionOutcome, ExtractionTask } from './extraction.worker.ts';
import type { OcrSettings } from './ocr/ocr.ts';

export interface ExtractionPoolOptions {
  threads: number;
  /** Time one document may run in its worker; queueing and worker start-up are not counted. */
  timeoutMs: number;
  /** V8 old-generation heap limit of each worker. */
  maxMemoryMb: number;
  /** An OCR pool: its tasks recognise the pages without a text layer, with these settings. */
  ocr?: OcrSettings;
  /** Threads start on demand and end after this long without work (default: always running). */
  idleTimeoutMs?: number;
  /** Called for a worker failure that belongs to no task (the pool replaces the worker). */
  onWorkerError?: (error: Error) => void;
}

export interface ExtractionPool {
  /**
   * Extracts text and insights in a worker thread. `bytes` is moved to the worker (its buffer is
   * detached) when it owns its whole ArrayBuffer; otherwise it is copied and left intact.
   * Rejects with ExtractionError (malformed, unsupported, timeout, memory) for the file's fault;
   * any other rejection is an infrastructure failure worth retrying.
   */
  extract(
    bytes: Uint8Array,
    type: ExtractableType,
  ): Promise<{ extracted: ExtractedText; insights: Insights }>;
  /** Lets running tasks finish (within their time limit), then stops the workers. */
  close(): Promise<void>;
}

const WORKER = new URL('./extraction.worker.ts', import.meta.url);
/** Loading pdf.js and friends needs about 32 MB; a worker that cannot start would never be replaced. */
export const MIN_WORKER_MEMORY_MB = 48;

export function createExtractionPool(opts: ExtractionPoolOptions): ExtractionPool {
  if (!(opts.threads >= 1 && opts.timeoutMs > 0 && opts.maxMemoryMb >= MIN_WORKER_MEMORY_MB)) {
    throw new RangeError(
      `Extraction pool needs threads >= 1, timeoutMs > 0 and maxMemoryMb >= ${MIN_WORKER_MEMORY_MB}`,
    );
  }
  const piscina = new Piscina<ExtractionTask, ExtractionOutcome>({
    filename: WORKER.href,
    minThreads: opts.idleTimeoutMs ? 0 : opts.threads,
    maxThreads: opts.threads,
    ...(opts.idleTimeoutMs ? { idleTimeout: opts.idleTimeoutMs } : {}),
    resourceLimits: { maxOldGenerationSizeMb: opts.maxMemoryMb },
    // pdf.js finishes some clean-up asynchronously; Atomics.wait between tasks would freeze it.
    atomics: 'disabled',
  });
  // Without a listener an EventEmitter 'error' would throw and take the main process down.
  piscina.on('error', (error: Error) => opts.onWorkerError?.(error));
  let closed = false;

  async function extract(bytes: Uint8Array, type: ExtractableType) {
    if (closed) throw new Error('The extraction pool is closed');
    const owned = ownsWholeBuffer(bytes) ? bytes : bytes.slice();
    const { port1, port2 } = new MessageChannel();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    port1.once('message', () => {
      if (!settled) timer = setTimeout(() => controller.abort(), opts.timeoutMs);
    });
    try {
      const outcome = await piscina.run(
        { bytes: owned, type, started: port2, ...(opts.ocr ? { ocr: opts.ocr } : {}) },
        { signal: controller.signal, transferList: [port2, owned.buffer as ArrayBuffer] },
      );
      if (!outcome.ok) throw new ExtractionError(outcome.reason, outcome.message);
      return { extracted: outcome.extracted, insights: outcome.insights };
    } catch (error) {
      throw translate(error, controller.signal.aborted, opts);
    } finally {
      settled = true;
      clearTimeout(timer);
      port1.close();
    }
  }

  return {
    extract,
    async close() {
      closed = true;
      await piscina.close();
    },
  };
}

function ownsWholeBuffer(bytes: Uint8Array): boolean {
  const { buffer } = bytes;
  return (
    buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength &&
    !isMarkedAsUntransferable(buffer) // Node's shared Buffer pool cannot move
  );
}

function translate(error: unknown, timedOut: boolean, opts: ExtractionPoolOptions): unknown {
  if (error instanceof ExtractionError) return error;
  if (timedOut) return new ExtractionError('timeout', `Extraction took longer than ${opts.timeoutMs} ms`);
  if ((error as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new ExtractionError('memory', `Extraction needed more than ${opts.maxMemoryMb} MB of memory`);
  }
  return error;
}
