import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorker, OEM, type Worker } from 'tesseract.js';
import { cpuDeadline, processCpuMs, StarvedError } from '../cpu-deadline.ts';
import { ExtractionError } from '../extraction.ts';
import { tesseractJsDataFile } from './languages.ts';
import { type OcrEngine, ocrTimeout } from './ocr.ts';

/**
 * tesseract.js (Tesseract compiled to WebAssembly, in its own worker thread): works after
 * `npm install` alone. Language data comes from node_modules (`@tesseract.js-data/<lang>`), gathered
 * into one local folder for `langPath`, so the library never looks for it on the network.
 */
export function createTesseractJsEngine(languages: string[]): OcrEngine {
  let worker: Promise<Worker> | null = null;

  async function start(): Promise<Worker> {
    // Each language lives in its own package; tesseract.js reads them all from one folder.
    // (Its `{ code, data }` form would avoid the folder, but 7.0 initialises with the data as the name.)
    const langPath = await mkdtemp(join(tmpdir(), 'dossier-ocr-'));
    try {
      for (const lang of languages) {
        await symlink(tesseractJsDataFile(lang), join(langPath, `${lang}.traineddata.gz`));
      }
      return await createWorker(languages, OEM.LSTM_ONLY, { langPath, cacheMethod: 'none', gzip: true });
    } finally {
      await rm(langPath, { recursive: true, force: true });
    }
  }

  async function stop(w: Promise<Worker> | null) {
    if (w) await (await w.catch(() => null))?.terminate();
  }

  return {
    async recognize(image, timeoutMs) {
      worker ??= start();
      const current = worker;
      let w: Worker;
      try {
        w = await current;
      } catch (err) {
        worker = null;
        throw err;
      }
      // CPU time of this process (the engine's threads run in it), as for whole documents: a page
      // waiting for the CPU on a busy host has not timed out.
      let cancel = () => {};
      const timedOut = new Promise<never>((_, reject) => {
        cancel = cpuDeadline(
          timeoutMs,
          () => processCpuMs(process.pid),
          (why) =>
            reject(
              why === 'cpu' ? ocrTimeout('a page', timeoutMs) : new StarvedError('OCR of a page', timeoutMs),
            ),
        );
      });
      try {
        const result = await Promise.race([w.recognize(Buffer.from(image)), timedOut]);
        return result.data.text;
      } catch (err) {
        // A timed-out or failed worker may still be busy: start a fresh one next time.
        if (worker === current) worker = null;
        await stop(current);
        if (err instanceof ExtractionError || err instanceof StarvedError) throw err;
        // tesseract.js rejects with a bare message for an image it cannot decode.
        throw new ExtractionError('malformed', `OCR could not read the image (${String(err).slice(0, 200)})`);
      } finally {
        cancel();
      }
    },
    async release() {
      const w = worker;
      worker = null;
      await stop(w);
    },
  };
}
