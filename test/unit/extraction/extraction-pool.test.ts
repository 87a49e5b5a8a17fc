import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ExtractionError } from '../../../src/services/extraction/extraction.ts';
import {
  createExtractionPool,
  type ExtractionPool,
} from '../../../src/services/extraction/extraction-pool.ts';
import { capturedLog } from '../../support/app.ts';
import {
  distinctWordsText,
  makeDeflateBombPdf,
  makeDocx,
  makePdf,
  utf8,
} from '../../support/extraction-fixtures.ts';
import { waitFor } from '../../support/wait.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const pools: ExtractionPool[] = [];
function pool(opts: { processes: number; timeoutMs: number; maxMemoryMb: number; idleMs?: number }) {
  const created = createExtractionPool({ idleMs: 60_000, ...opts });
  pools.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function rejection(promise: Promise<unknown>): Promise<ExtractionError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExtractionError);
  return error as ExtractionError;
}

describe('extraction pool', () => {
  it('extracts text and insights in a child process, from a whole buffer or a view', async () => {
    const p = pool({ processes: 2, timeoutMs: 10_000, maxMemoryMb: 256 });
    const pdf = await makePdf(['Invoice for consulting services', 'Consulting services rendered in March']);
    const result = await p.extract(pdf, 'application/pdf');
    expect(result.extracted).toEqual({
      text: 'Invoice for consulting services\n\nConsulting services rendered in March',
      pageCount: 2,
      scannedPages: [],
    });
    expect(result.insights).toMatchObject({ wordCount: 9, pageCount: 2, needsOcr: false });
    expect(result.insights.keywords.slice(0, 2)).toEqual(['consulting', 'services']);
    const backing = utf8('xxxxThe view only');
    expect((await p.extract(backing.subarray(4), 'text/plain')).extracted.text).toBe('The view only');
  });

  it('runs more documents than processes, of every type, concurrently', async () => {
    const p = pool({ processes: 2, timeoutMs: 10_000, maxMemoryMb: 256 });
    const results = await Promise.all([
      p.extract(await makePdf(['alpha page']), 'application/pdf'),
      p.extract(await makeDocx(['bravo paragraph']), DOCX),
      p.extract(utf8('# charlie heading'), 'text/markdown'),
      p.extract(utf8('delta text'), 'text/plain'),
      p.extract(await makePdf(['echo one', 'echo two', 'echo three']), 'application/pdf'),
    ]);
    expect(results.map((r) => r.extracted.text)).toEqual([
      'alpha page',
      'bravo paragraph',
      'charlie heading',
      'delta text',
      'echo one\n\necho two\n\necho three',
    ]);
  });

  it('returns a malformed file as ExtractionError across the process boundary', async () => {
    const p = pool({ processes: 1, timeoutMs: 10_000, maxMemoryMb: 256 });
    const pdf = await makePdf(['truncated']);
    const error = await rejection(p.extract(pdf.slice(0, 300), 'application/pdf'));
    expect(error.reason).toBe('malformed');
    expect(error.message).toMatch(/not a readable PDF/);
  });

  it('kills a task past its time limit, answers timeout, and keeps serving', async () => {
    // The limit holds for every task: 1 s leaves room for a plain text under load, far below the bomb's 5 s.
    const p = pool({ processes: 1, timeoutMs: 1000, maxMemoryMb: 1024 });
    await p.extract(utf8('started before the clock'), 'text/plain');
    // About 5 s of pdf.js work once inflated, from a 100 KB file.
    const bomb = makeDeflateBombPdf(1_000_000);
    const started = performance.now();
    const error = await rejection(p.extract(bomb, 'application/pdf'));
    expect(error.reason).toBe('timeout');
    expect(error.message).toBe('Extraction took longer than 1000 ms');
    expect(performance.now() - started).toBeLessThan(4000);
    const after = await p.extract(utf8('still working after the timeout'), 'text/plain');
    expect(after.insights.wordCount).toBe(5);
    expect((await p.extract(await makePdf(['fresh worker']), 'application/pdf')).extracted.text).toBe(
      'fresh worker',
    );
  }, 60_000); // three process start-ups, slow on a loaded machine

  it('kills a task past its memory limit, answers memory, and keeps serving', async () => {
    const p = pool({ processes: 1, timeoutMs: 30_000, maxMemoryMb: 64 });
    // 30 KB on disk; pdf.js's objects for 300,000 text operators outgrow 64 MB of heap.
    const error = await rejection(p.extract(makeDeflateBombPdf(300_000), 'application/pdf'));
    expect(error.reason).toBe('memory');
    expect(error.message).toBe('Extraction needed more than 64 MB of memory');
    const after = await p.extract(await makePdf(['survived the memory limit']), 'application/pdf');
    expect(after.extracted.text).toBe('survived the memory limit');
  });

  it('refuses a DOCX zip bomb and an oversized text before decoding them, and keeps serving', async () => {
    const p = pool({ processes: 1, timeoutMs: 30_000, maxMemoryMb: 64 });
    // 20 MB of XML in a small ZIP: decoded in one piece it could abort the process, not just the worker.
    const bomb = await makeDocx(
      Array.from({ length: 250_000 }, () => 'A paragraph repeated to inflate the XML.'),
    );
    expect(bomb.byteLength).toBeLessThan(200_000);
    const docxError = await rejection(p.extract(bomb, DOCX));
    expect(docxError.reason).toBe('memory');
    expect(docxError.message).toBe('The document unpacks to more text than the memory limit allows');
    const textError = await rejection(p.extract(distinctWordsText(1_500_000), 'text/plain'));
    expect(textError.reason).toBe('memory');
    expect((await p.extract(await makeDocx(['small and fine']), DOCX)).extracted.text).toBe('small and fine');
  });

  it('loses only the document whose process is killed, and starts another for the next', async () => {
    const p = pool({ processes: 1, timeoutMs: 30_000, maxMemoryMb: 256 });
    await p.extract(utf8('start the process'), 'text/plain');
    const [pid] = p.pids();
    const slow = p.extract(makeDeflateBombPdf(1_000_000), 'application/pdf');
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid!, 'SIGKILL');
    const error = await slow.then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).not.toBeInstanceOf(ExtractionError); // not the file's fault: the queue retries it
    expect(error?.message).toMatch(/extraction process ended \(SIGKILL\)/);
    expect((await p.extract(utf8('a new process'), 'text/plain')).extracted.text).toBe('a new process');
    expect(p.pids()).not.toContain(pid);
  });

  it('runs every thread of its processes in the idle scheduling class (background work), niced as a fallback', async () => {
    const p = pool({ processes: 1, timeoutMs: 10_000, maxMemoryMb: 128 });
    await p.extract(utf8('hello'), 'text/plain');
    const pid = p.pids()[0]!;
    expect(getPriority(pid)).toBe(Math.min(19, getPriority() + 10));
    // /proc/<pid>/task/<tid>/stat's 41st field is the scheduling policy: 5 is SCHED_IDLE.
    const policies = () =>
      readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
      });
    await waitFor(async () => policies().every((policy) => policy === 5), 5000, 'SCHED_IDLE on every thread');
    expect(policies().length).toBeGreaterThan(1);
  });

  it('falls back to niceness alone, saying so once, where chrt cannot be run', async () => {
    const { log, lines } = capturedLog('warn');
    const path = process.env.PATH;
    // No chrt on this PATH; the process itself is started by path (process.execPath), not through PATH.
    process.env.PATH = '/nonexistent';
    try {
      const p = createExtractionPool({
        processes: 2,
        timeoutMs: 10_000,
        maxMemoryMb: 128,
        idleMs: 60_000,
        log,
      });
      pools.push(p);
      await Promise.all([p.extract(utf8('one'), 'text/plain'), p.extract(utf8('two'), 'text/plain')]);
      await waitFor(
        async () => lines.some((l) => /chrt --idle failed/.test(String(l.msg))),
        5000,
        'the warning',
      );
      expect(lines.filter((l) => /chrt --idle failed/.test(String(l.msg)))).toHaveLength(1);
      for (const pid of p.pids()) expect(getPriority(pid)).toBe(Math.min(19, getPriority() + 10));
    } finally {
      process.env.PATH = path;
    }
  });

  it('counts CPU time against the limit, not time spent waiting for the CPU', async () => {
    const p = pool({ processes: 1, timeoutMs: 1000, maxMemoryMb: 128 });
    await p.extract(utf8('started before the clock'), 'text/plain');
    const [pid] = p.pids();
    // A process that gets no CPU for 1.5 s (as on a host busy with requests) has used none of its second.
    process.kill(pid!, 'SIGSTOP');
    const waiting = p.extract(await makePdf(['read once the host is quiet']), 'application/pdf');
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(pid!, 'SIGCONT');
    expect((await waiting).extracted.text).toBe('read once the host is quiet');
    expect(p.pids()).toEqual([pid]);
  });

  it('gives up a document starved of CPU for three times its limit as a retryable failure, not a timeout', async () => {
    const p = pool({ processes: 1, timeoutMs: 500, maxMemoryMb: 128 });
    await p.extract(utf8('started before the clock'), 'text/plain');
    const [pid] = p.pids();
    process.kill(pid!, 'SIGSTOP');
    const started = performance.now();
    const error = await p.extract(utf8('never gets the CPU'), 'text/plain').then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
    expect(error).not.toBeInstanceOf(ExtractionError); // not the file's fault: the queue retries it
    expect(error?.message).toBe('Extraction got less than 500 ms of CPU in 1500 ms');
    expect((await p.extract(utf8('a new process'), 'text/plain')).extracted.text).toBe('a new process');
    expect(p.pids()).not.toContain(pid);
  });

  it('gives the process no secrets: its environment holds only PATH (and TMPDIR) beside the IPC channel', async () => {
    process.env.DOSSIER_POOL_TEST_SECRET = 'must-not-leak';
    try {
      const p = pool({ processes: 1, timeoutMs: 10_000, maxMemoryMb: 128 });
      await p.extract(utf8('hello'), 'text/plain');
      const environ = readFileSync(`/proc/${p.pids()[0]}/environ`, 'utf8');
      expect(environ).not.toContain('must-not-leak');
      // Node's own IPC channel variables aside.
      const names = environ
        .split('\0')
        .flatMap((v) => (v && !v.startsWith('NODE_CHANNEL_') ? [v.split('=')[0]] : []));
      expect(names.sort()).toEqual(process.env.TMPDIR ? ['PATH', 'TMPDIR'] : ['PATH']);
    } finally {
      delete process.env.DOSSIER_POOL_TEST_SECRET;
    }
  });

  it('starts a process on first use and ends it when idle', async () => {
    const p = pool({ processes: 1, timeoutMs: 10_000, maxMemoryMb: 128, idleMs: 200 });
    expect(p.pids()).toEqual([]);
    await p.extract(utf8('wake up'), 'text/plain');
    expect(p.pids()).toHaveLength(1);
    await waitFor(async () => p.pids().length === 0, 5000, 'the idle process to end');
    expect((await p.extract(utf8('and again'), 'text/plain')).extracted.text).toBe('and again');
  });

  it('refuses a memory limit too small for a process to start', () => {
    const limits = { timeoutMs: 1000, idleMs: 1000 };
    expect(() => createExtractionPool({ ...limits, processes: 1, maxMemoryMb: 16 })).toThrow(RangeError);
    expect(() => createExtractionPool({ ...limits, processes: 0, maxMemoryMb: 128 })).toThrow(RangeError);
  });

  it('refuses work once closed', async () => {
    const p = createExtractionPool({ processes: 1, timeoutMs: 1000, maxMemoryMb: 128, idleMs: 1000 });
    await p.close();
    await expect(p.extract(utf8('late'), 'text/plain')).rejects.toThrow('The extraction pool is closed');
  });
});
