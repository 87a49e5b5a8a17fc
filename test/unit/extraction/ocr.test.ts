import { describe, expect, it } from 'vitest';
import { StarvedError } from '../../../src/services/extraction/cpu-deadline.ts';
import { ExtractionError } from '../../../src/services/extraction/extraction.ts';
import { checkOcrInstalled, TESSERACT_CLI } from '../../../src/services/extraction/ocr/languages.ts';
import { createTesseractCliEngine } from '../../../src/services/extraction/ocr/tesseract-cli.engine.ts';
import { makeTextImage } from '../../support/extraction-fixtures.ts';
import { commandLine, descendantPids } from '../../support/proc.ts';
import { waitFor } from '../../support/wait.ts';

const settings = { maxPages: 1, pageTimeoutMs: 1000, dpi: 150 };

describe('checkOcrInstalled', () => {
  it('accepts the English data that npm install brings', async () => {
    await expect(
      checkOcrInstalled({ ...settings, engine: 'tesseract.js', languages: ['eng'] }),
    ).resolves.toBe(undefined);
  });

  it('names a language without data, and the package that brings it', async () => {
    await expect(
      checkOcrInstalled({ ...settings, engine: 'tesseract.js', languages: ['eng', 'xqz'] }),
    ).rejects.toThrow('OCR_LANGUAGES: no data for xqz (npm install @tesseract.js-data/xqz)');
  });
});

describe('the tesseract command engine', () => {
  const image = () =>
    makeTextImage(['Zanzibar spice plantations export cloves', 'and nutmeg to the harbour of Mombasa.']);
  const tesseractPids = () =>
    descendantPids(process.pid).filter((pid) => commandLine(pid).startsWith(TESSERACT_CLI));

  it('counts CPU time against a page limit: a page whose process waits 2 s for the CPU is still read', async () => {
    const engine = createTesseractCliEngine(['eng']);
    const reading = engine.recognize(await image(), 1500);
    const [pid] = await waitFor(async () => tesseractPids(), 5000, 'the tesseract process');
    // Stopped, as a process at idle priority is on a host busy with requests: it uses no CPU meanwhile.
    process.kill(pid!, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 2000));
    process.kill(pid!, 'SIGCONT');
    expect(await reading).toMatch(/Zanzibar spice/);
  }, 30_000);

  it('gives up a page starved of CPU as a retryable failure, and one that uses its CPU as a timeout', async () => {
    const engine = createTesseractCliEngine(['eng']);
    const starved = engine.recognize(await image(), 400).then(
      () => null,
      (e: unknown) => e as Error,
    );
    const [pid] = await waitFor(async () => tesseractPids(), 5000, 'the tesseract process');
    process.kill(pid!, 'SIGSTOP');
    const error = await starved;
    expect(error).toBeInstanceOf(StarvedError);
    expect(error?.message).toBe('OCR of a page got less than 400 ms of CPU in 1200 ms');
    const timeout = await engine.recognize(await image(), 10).then(
      () => null,
      (e: unknown) => e as ExtractionError,
    );
    expect(timeout).toBeInstanceOf(ExtractionError);
    expect(timeout).toMatchObject({ reason: 'timeout', message: 'OCR of a page took longer than 10 ms' });
  }, 30_000);
});
