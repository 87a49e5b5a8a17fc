import { spawn } from 'node:child_process';
import { cpuDeadline, type Expiry, processCpuMs, StarvedError } from '../cpu-deadline.ts';
import { ExtractionError } from '../extraction.ts';
import { TESSERACT_CLI } from './languages.ts';
import { type OcrEngine, ocrTimeout } from './ocr.ts';

/** Recognised text beyond this is cut off: a page holds a few kB. */
const MAX_OUTPUT_BYTES = 4 * 2 ** 20;

/**
 * Debian's `tesseract` command (OCR_ENGINE=tesseract): native code, one process per page, killed at
 * its CPU time limit. One OpenMP thread, so a page never takes more than its share of the machine.
 */
export function createTesseractCliEngine(languages: string[]): OcrEngine {
  return {
    recognize: (image, timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(TESSERACT_CLI, ['stdin', 'stdout', '-l', languages.join('+')], {
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OMP_THREAD_LIMIT: '1' },
        });
        const out: Buffer[] = [];
        let outBytes = 0;
        let err = '';
        // CPU time, as for whole documents: a page waiting for the CPU on a busy host has not timed out.
        let expiry: Expiry | null = null;
        const cancel = cpuDeadline(
          timeoutMs,
          () => (child.pid === undefined ? null : processCpuMs(child.pid)),
          (why) => {
            expiry = why;
            child.kill('SIGKILL');
          },
        );
        child.stdout.on('data', (chunk: Buffer) => {
          if (outBytes < MAX_OUTPUT_BYTES) out.push(chunk);
          outBytes += chunk.length;
        });
        child.stderr.on('data', (chunk: Buffer) => {
          if (err.length < 2000) err += chunk.toString();
        });
        child.stdin.on('error', () => undefined); // the exit code tells what went wrong
        child.once('error', (e) => {
          cancel();
          reject(e);
        });
        child.once('close', (code) => {
          cancel();
          if (expiry === 'cpu') return reject(ocrTimeout('a page', timeoutMs));
          if (expiry === 'wall') return reject(new StarvedError('OCR of a page', timeoutMs));
          if (code !== 0) {
            const reason = err.trim().split('\n').pop() ?? `exit code ${code}`;
            return reject(
              new ExtractionError('malformed', `OCR could not read the image (${reason.slice(0, 200)})`),
            );
          }
          resolve(Buffer.concat(out).toString('utf8').slice(0, MAX_OUTPUT_BYTES));
        });
        child.stdin.end(image);
      }),
    release: async () => undefined,
  };
}
