// PDF extraction speed: the worker pool (pdf-parse + insights) beside poppler's pdftotext, same files, same run.
// Run: npx node bench/extraction.bench.ts [runs]
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createExtractionPool } from '../src/services/extraction/extraction-pool.ts';
import { makePdf, median } from './support.ts';

const RUNS = Number(process.argv[2] ?? 15);
const WARMUP = 2;
const PDFTOTEXT = '/usr/bin/pdftotext';
const run = promisify(execFile);

async function timeRuns(
  pages: number,
  once: () => Promise<void>,
): Promise<{ pagesPerSec: number; ms: number }> {
  for (let i = 0; i < WARMUP; i++) await once();
  const durations: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await once();
    durations.push(performance.now() - start);
  }
  const ms = median(durations);
  return { pagesPerSec: pages / (ms / 1000), ms };
}

const dir = await mkdtemp(join(tmpdir(), 'dossier-extraction-bench-'));
const pool = createExtractionPool({ processes: 1, timeoutMs: 60_000, maxMemoryMb: 512, idleMs: 60_000 });
try {
  console.log(
    `PDF extraction, median of ${RUNS} sequential runs (after ${WARMUP} warm-up), one document at a time`,
  );
  console.log('pages | pool ms | pool pages/s | pdftotext ms | pdftotext pages/s | pdftotext/pool');
  for (const pages of [10, 50]) {
    const pdf = await makePdf(pages);
    const file = join(dir, `doc-${pages}.pdf`);
    await writeFile(file, pdf);

    const viaPool = await timeRuns(pages, async () => {
      const { extracted } = await pool.extract(pdf, 'application/pdf');
      if (extracted.pageCount !== pages) throw new Error(`pool read ${extracted.pageCount} pages`);
    });
    const poppler = await timeRuns(pages, async () => {
      const { stdout } = await run(PDFTOTEXT, ['-q', '-enc', 'UTF-8', file, '-'], { maxBuffer: 64 << 20 });
      if (!stdout.includes(`Page ${pages}.`)) throw new Error('pdftotext missed the last page');
    });
    const row = [
      pages,
      viaPool.ms.toFixed(1),
      viaPool.pagesPerSec.toFixed(0),
      poppler.ms.toFixed(1),
      poppler.pagesPerSec.toFixed(0),
      `${(poppler.pagesPerSec / viaPool.pagesPerSec).toFixed(1)}x`,
    ];
    console.log(row.join(' | '));
  }
  console.log('pool = child process: pdf-parse (pdf.js) + insights; pdftotext = one process spawn per run.');
} finally {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
}
