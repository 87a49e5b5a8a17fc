import { afterEach, describe, expect, it } from 'vitest';
import { ExtractionError } from '../../src/services/extraction/extraction.ts';
import { createExtractionPool, type ExtractionPool } from '../../src/services/extraction/extraction-pool.ts';
import { distinctWordsText, makeDeflateBombPdf, makeDocx, makePdf, utf8 } from './fixtures.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const pools: ExtractionPool[] = [];
function pool(opts: { threads: number; timeoutMs: number; maxMemoryMb: number }): ExtractionPool {
  const created = createExtractionPool(opts);
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
  it('extracts text and insights in a worker, moving a whole buffer and copying a view', async () => {
    const p = pool({ threads: 2, timeoutMs: 10_000, maxMemoryMb: 256 });
    const pdf = await makePdf(['Invoice for consulting services', 'Consulting services rendered in March']);
    const result = await p.extract(pdf, 'application/pdf');
    expect(result.extracted).toEqual({
      text: 'Invoice for consulting services\n\nConsulting services rendered in March',
      pageCount: 2,
      scannedPages: [],
    });
    expect(result.insights).toMatchObject({ wordCount: 9, pageCount: 2, needsOcr: false });
    expect(result.insights.keywords.slice(0, 2)).toEqual(['consulting', 'services']);
    expect(pdf.byteLength).toBe(0); // transferred, not copied

    const backing = utf8('xxxxThe view only');
    const view = backing.subarray(4);
    expect((await p.extract(view, 'text/plain')).extracted.text).toBe('The view only');
    expect(backing.byteLength).toBe(17); // a view is copied, its buffer left intact
  });

  it('runs more tasks than threads, of every type, concurrently', async () => {
    const p = pool({ threads: 2, timeoutMs: 10_000, maxMemoryMb: 256 });
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

  it('returns a malformed file as ExtractionError across the thread boundary', async () => {
    const p = pool({ threads: 1, timeoutMs: 10_000, maxMemoryMb: 256 });
    const pdf = await makePdf(['truncated']);
    const error = await rejection(p.extract(pdf.slice(0, 300), 'application/pdf'));
    expect(error.reason).toBe('malformed');
    expect(error.message).toMatch(/not a readable PDF/);
  });

  it('kills a task past its time limit, answers timeout, and keeps serving', async () => {
    const p = pool({ threads: 1, timeoutMs: 300, maxMemoryMb: 1024 });
    // About 5 s of pdf.js work once inflated, from a 100 KB file.
    const bomb = makeDeflateBombPdf(1_000_000);
    const started = performance.now();
    const error = await rejection(p.extract(bomb, 'application/pdf'));
    expect(error.reason).toBe('timeout');
    expect(error.message).toBe('Extraction took longer than 300 ms');
    expect(performance.now() - started).toBeLessThan(4000);
    const after = await p.extract(utf8('still working after the timeout'), 'text/plain');
    expect(after.insights.wordCount).toBe(5);
    expect((await p.extract(await makePdf(['fresh worker']), 'application/pdf')).extracted.text).toBe(
      'fresh worker',
    );
  });

  it('kills a task past its memory limit, answers memory, and keeps serving', async () => {
    const p = pool({ threads: 1, timeoutMs: 30_000, maxMemoryMb: 64 });
    // 30 KB on disk; pdf.js's objects for 300,000 text operators outgrow 64 MB of heap.
    const error = await rejection(p.extract(makeDeflateBombPdf(300_000), 'application/pdf'));
    expect(error.reason).toBe('memory');
    expect(error.message).toBe('Extraction needed more than 64 MB of memory');
    const after = await p.extract(await makePdf(['survived the memory limit']), 'application/pdf');
    expect(after.extracted.text).toBe('survived the memory limit');
  });

  it('refuses a DOCX zip bomb and an oversized text before decoding them, and keeps serving', async () => {
    const p = pool({ threads: 1, timeoutMs: 30_000, maxMemoryMb: 64 });
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

  it('refuses a memory limit too small for a worker to start', () => {
    expect(() => createExtractionPool({ threads: 1, timeoutMs: 1000, maxMemoryMb: 16 })).toThrow(RangeError);
    expect(() => createExtractionPool({ threads: 0, timeoutMs: 1000, maxMemoryMb: 128 })).toThrow(RangeError);
  });

  it('refuses work once closed', async () => {
    const p = createExtractionPool({ threads: 1, timeoutMs: 1000, maxMemoryMb: 128 });
    await p.close();
    await expect(p.extract(utf8('late'), 'text/plain')).rejects.toThrow('The extraction pool is closed');
  });
});
