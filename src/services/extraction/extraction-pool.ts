import { type ChildProcess, execFile, fork } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import type { Insights } from '../../entities/document.entity.ts';
import type { Logger } from '../../logger.ts';
import { moduleExtension } from '../shared/module-file.ts';
import { cpuDeadline, processCpuMs, StarvedError } from './cpu-deadline.ts';
import type {
  ChildReady,
  ExtractionOutcome,
  ExtractionReply,
  ExtractionRequest,
} from './extraction.child.ts';
import { type ExtractableType, type ExtractedText, ExtractionError } from './extraction.ts';
import type { OcrSettings } from './ocr/ocr.ts';

export interface ExtractionPoolOptions {
  /** Extraction processes running at once; each starts on first use. */
  processes: number;
  /**
   * CPU time one document may take in its process (queueing and process start-up not counted); one
   * given three times as much wall time (cpu-deadline.ts) without getting that far was starved, and is retried.
   */
  timeoutMs: number;
  /** Memory each process may take beyond what it holds once started: V8's heap and every Buffer. */
  maxMemoryMb: number;
  /** A process left idle this long ends; the next document starts one again. */
  idleMs: number;
  /** An OCR pool: its documents have their pages without a text layer recognised, with these settings. */
  ocr?: OcrSettings;
  log?: Logger;
}

export interface ExtractionPool {
  /**
   * Extracts text and insights in a child process (the bytes are copied to it). Rejects with
   * ExtractionError (malformed, unsupported, timeout, memory) for the file's fault; any other
   * rejection is an infrastructure failure worth retrying.
   */
  extract(
    bytes: Uint8Array,
    type: ExtractableType,
  ): Promise<{ extracted: ExtractedText; insights: Insights }>;
  /** The ids of the extraction processes alive now (none until the first document, none once idle). */
  pids(): number[];
  /** Refuses queued work, lets running documents finish (within their time limit), then ends the processes. */
  close(): Promise<void>;
}

const CHILD = new URL(`./extraction.child${moduleExtension(import.meta.url)}`, import.meta.url);
/**
 * Extraction is background work: its processes (and the OCR programs they start) run at Linux's idle
 * scheduling class (SCHED_IDLE, set with util-linux's chrt), so that they use only CPU time nothing
 * else wants and a request never waits behind a document. Lower niceness is the fallback where chrt
 * is missing; it still lets a niced process finish its time slice before a request's thread runs.
 */
const CHILD_NICENESS = 10;
const CHRT = 'chrt';
/** Loading pdf.js and friends needs about 32 MB of heap; a process that cannot start would never serve. */
export const MIN_WORKER_MEMORY_MB = 48;
const START_TIMEOUT_MS = 30_000;
/** V8's words for a heap or an allocation that could not grow, printed as the process dies. */
const OUT_OF_MEMORY = /out of memory|allocation failed/i;

interface Task {
  bytes: Uint8Array;
  type: ExtractableType;
  resolve(result: { extracted: ExtractedText; insights: Insights }): void;
  reject(error: unknown): void;
}

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  busy: boolean;
  gone: boolean;
  idle?: NodeJS.Timeout;
  stderr: string;
  onReply?: (reply: ExtractionReply) => void;
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export function createExtractionPool(opts: ExtractionPoolOptions): ExtractionPool {
  if (!(opts.processes >= 1 && opts.timeoutMs > 0 && opts.maxMemoryMb >= MIN_WORKER_MEMORY_MB)) {
    throw new RangeError(
      `Extraction pool needs processes >= 1, timeoutMs > 0 and maxMemoryMb >= ${MIN_WORKER_MEMORY_MB}`,
    );
  }
  const children = new Set<Child>();
  const queue: Task[] = [];
  const running = new Set<Promise<void>>();
  let lastId = 0;
  let closed = false;
  let warnedUncapped = false;
  let warnedPriority = false;

  /** Every thread of the process, and all it starts later, to the idle scheduling class. */
  function idlePriority(pid: number) {
    execFile(CHRT, ['--all-tasks', '--idle', '--pid', '0', String(pid)], (err) => {
      if (!err || warnedPriority) return;
      warnedPriority = true;
      opts.log?.warn({ err }, 'extraction processes run at a lower niceness only: chrt --idle failed');
    });
  }

  function spawnChild(): Child {
    const proc = fork(CHILD, [String(opts.maxMemoryMb)], {
      execArgv: [`--max-old-space-size=${opts.maxMemoryMb}`],
      // It reads hostile files: no secrets, only where to find programs and temporary files.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    try {
      if (proc.pid) setPriority(proc.pid, Math.min(19, CHILD_NICENESS + getPriority()));
    } catch (err) {
      opts.log?.warn({ err }, 'extraction process priority not lowered');
    }
    if (proc.pid) idlePriority(proc.pid);
    const child: Child = { process: proc, ready: Promise.resolve(), busy: false, gone: false, stderr: '' };
    proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
      child.stderr = (child.stderr + s).slice(-4096);
    });
    child.ready = new Promise<void>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error('The extraction process did not start in time')),
        START_TIMEOUT_MS,
      );
      proc.on('message', (m: ChildReady | ExtractionReply) => {
        if ('ready' in m) {
          clearTimeout(timer);
          if (m.uncapped && !warnedUncapped) {
            warnedUncapped = true;
            opts.log?.warn({ reason: m.uncapped }, 'extraction memory is capped by the V8 heap only');
          }
          ok();
        } else child.onReply?.(m);
      });
      proc.once('close', (code, signal) => {
        clearTimeout(timer);
        fail(
          new Error(
            `The extraction process ended while starting (${signal ?? code}): ${child.stderr.slice(-500)}`,
          ),
        );
      });
    });
    child.ready.catch(() => retire(child));
    proc.on('error', (err) => opts.log?.error({ err }, 'extraction process error'));
    // 'close', not 'exit': stderr, which tells a memory death from others, has been read in full by then.
    proc.once('close', (code, signal) => {
      retire(child);
      child.onExit?.(code, signal);
    });
    children.add(child);
    return child;
  }

  /** Takes a child out of service at once, so no document is sent to it while it dies. */
  function retire(child: Child) {
    if (child.gone) return;
    child.gone = true;
    clearTimeout(child.idle);
    children.delete(child);
    child.process.kill('SIGKILL');
    pump();
  }

  function pump() {
    while (queue.length > 0 && !closed) {
      const idle = [...children].find((c) => !c.busy);
      const child = idle ?? (children.size < opts.processes ? spawnChild() : null);
      if (!child) return;
      const task = queue.shift()!;
      const run = runOn(child, task).finally(() => running.delete(run));
      running.add(run);
    }
  }

  async function runOn(child: Child, task: Task) {
    child.busy = true;
    clearTimeout(child.idle);
    try {
      await child.ready;
      const outcome = await exchange(child, task);
      if (!outcome.ok) throw new ExtractionError(outcome.reason, outcome.message);
      task.resolve({ extracted: outcome.extracted, insights: outcome.insights });
    } catch (error) {
      task.reject(error);
    } finally {
      child.onReply = child.onExit = undefined;
      child.busy = false;
      if (!child.gone) child.idle = setTimeout(() => retire(child), opts.idleMs).unref();
      pump();
    }
  }

  function exchange(child: Child, task: Task) {
    const id = ++lastId;
    const pid = child.process.pid!;
    return new Promise<ExtractionOutcome>((ok, fail) => {
      const done = cpuDeadline(
        opts.timeoutMs,
        () => processCpuMs(pid),
        (why) => {
          fail(
            why === 'cpu'
              ? new ExtractionError('timeout', `Extraction took longer than ${opts.timeoutMs} ms`)
              : // Not the file's fault: the host was too busy to give it the CPU. The queue retries.
                new StarvedError('Extraction', opts.timeoutMs),
          );
          retire(child);
        },
      );
      child.onReply = (reply) => {
        if (reply.id !== id) return;
        done();
        if ('error' in reply) fail(new Error(`Extraction failed: ${reply.error}`));
        else ok(reply.outcome);
      };
      child.onExit = (code, signal) => {
        done();
        fail(deathError(code, signal, child.stderr, opts.maxMemoryMb));
      };
      const request: ExtractionRequest = { id, bytes: task.bytes, type: task.type, ocr: opts.ocr };
      child.process.send(request, (err) => {
        if (err) {
          done();
          fail(err);
        }
      });
    });
  }

  return {
    extract(bytes, type) {
      if (closed) return Promise.reject(new Error('The extraction pool is closed'));
      return new Promise((resolve, reject) => {
        queue.push({ bytes, type, resolve, reject });
        pump();
      });
    },
    pids: () => [...children].map((c) => c.process.pid!),
    async close() {
      closed = true;
      for (const task of queue.splice(0)) task.reject(new Error('The extraction pool is closed'));
      await Promise.all(running);
      const exits = [...children].map((c) => new Promise((ok) => c.process.once('close', ok)));
      for (const child of [...children]) retire(child);
      await Promise.all(exits);
    },
  };
}

/** A process that died on a document: its memory limit when V8 said so, otherwise worth a retry. */
function deathError(code: number | null, signal: NodeJS.Signals | null, stderr: string, maxMemoryMb: number) {
  if (OUT_OF_MEMORY.test(stderr)) {
    return new ExtractionError('memory', `Extraction needed more than ${maxMemoryMb} MB of memory`);
  }
  return new Error(`The extraction process ended (${signal ?? `exit ${code}`}) while extracting`);
}
