// OCR speed: the OCR pool (render + recognise) beside Debian's tesseract command on the same page images.
// Run: npx node bench/ocr.bench.ts [runs]   (needs tesseract-ocr; .ci/run installs it)
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createExtractionPool, type ExtractionPool } from '../src/services/extraction/extraction-pool.ts';
import { type OcrEngineName, ocrTaskTimeoutMs } from '../src/services/extraction/ocr/ocr.ts';
import { makeScannedPdf, makeTextImage } from '../test/support/extraction-fixtures.ts';
import { fixed, median, printTable } from './support.ts';

const RUNS = Number(process.argv[2] ?? 3);
const DPI = 200;
const run = promisify(execFile);

const WORDS = (
  'project budget committee research schedule contract delivery invoice review analysis client ' +
  'requirement milestone proposal service quality report meeting design architecture'
).split(' ');
/** A page of a typed letter: 30 lines of about 45 characters. */
const pageLines = (page: number) =>
  Array.from({ length: 30 }, (_, line) =>
    Array.from({ length: 6 }, (_, w) => WORDS[(page * 31 + line * 7 + w * 3) % WORDS.length]).join(' '),
  );

async function timeRuns(once: () => Promise<void>): Promise<number> {
  await once(); // warm-up: the engine starts and loads its language data
  const durations: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await once();
    durations.push(performance.now() - start);
  }
  return median(durations);
}

const ocrPool = (engine: OcrEngineName): ExtractionPool => {
  const ocr = { engine, languages: ['eng'], maxPages: 20, pageTimeoutMs: 60_000, dpi: DPI };
  return createExtractionPool({
    processes: 1,
    timeoutMs: ocrTaskTimeoutMs(ocr),
    maxMemoryMb: 1024,
    idleMs: 600_000,
    ocr,
  });
};

const dir = await mkdtemp(join(tmpdir(), 'dossier-ocr-bench-'));
const pools = { 'tesseract.js': ocrPool('tesseract.js'), tesseract: ocrPool('tesseract') };
try {
  console.log(
    `OCR of scanned PDFs (30 typed lines a page, pages rendered at ${DPI} dpi), median of ${RUNS} runs after a warm-up; ` +
      'baseline: tesseract 5 (Debian) on the scan images themselves, one process per page, one thread (OMP_THREAD_LIMIT=1).',
  );
  const rows: (string | number)[][] = [];
  for (const pages of [1, 10]) {
    const lines = Array.from({ length: pages }, (_, p) => pageLines(p));
    const pdf = await makeScannedPdf(lines.map((scan) => ({ scan })));
    const files = await Promise.all(
      lines.map(async (scan, p) => {
        const file = join(dir, `page-${pages}-${p}.png`);
        await writeFile(file, await makeTextImage(scan));
        return file;
      }),
    );
    const viaPool = async (engine: OcrEngineName) =>
      timeRuns(async () => {
        const { extracted } = await pools[engine].extract(new Uint8Array(pdf), 'application/pdf');
        if (!extracted.text.includes('milestone')) throw new Error(`${engine} read nothing`);
      });
    const js = await viaPool('tesseract.js');
    const native = await viaPool('tesseract');
    const cli = await timeRuns(async () => {
      for (const file of files) {
        const { stdout } = await run('tesseract', [file, 'stdout', '-l', 'eng'], {
          env: { PATH: process.env.PATH, OMP_THREAD_LIMIT: '1' },
        });
        if (!stdout.includes('milestone')) throw new Error('tesseract read nothing');
      }
    });
    const perSec = (ms: number) => fixed(pages / (ms / 1000), 2);
    rows.push([
      pages,
      fixed(js),
      perSec(js),
      fixed(native),
      perSec(native),
      fixed(cli),
      perSec(cli),
      `${fixed(js / cli, 2)}x`,
    ]);
  }
  printTable(
    [
      'pages',
      'tesseract.js pool ms',
      'pages/s',
      'OCR_ENGINE=tesseract pool ms',
      'pages/s',
      'tesseract CLI ms',
      'pages/s',
      'tesseract.js / CLI time',
    ],
    rows,
  );
  const worst = Math.max(...rows.map((r) => Number(String(r[7]).replace('x', ''))));
  console.log(
    `Target: the default engine within 2x of the tesseract CLI per page: ${worst <= 2 ? 'met' : 'MISSED'} (${worst}x)`,
  );
  console.log(
    'pool = the OCR child process: parse the PDF, render each page (pdf.js + @napi-rs/canvas), recognise.',
  );
} finally {
  await Promise.all(Object.values(pools).map((p) => p.close()));
  await rm(dir, { recursive: true, force: true });
}
