import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { OcrSettings } from './ocr.ts';

const require = createRequire(import.meta.url);

/** The tesseract.js traineddata of `lang`, from its `@tesseract.js-data/<lang>` package; never downloaded. */
export function tesseractJsDataFile(lang: string): string {
  const pkg = require.resolve(`@tesseract.js-data/${lang}/package.json`);
  return join(dirname(pkg), '4.0.0_best_int', `${lang}.traineddata.gz`);
}

/** Debian's `tesseract` command; its language data comes from `tesseract-ocr-<lang>` packages. */
export const TESSERACT_CLI = 'tesseract';

/**
 * Checks at start that the engine and every language's data are installed, so that a bad
 * OCR_ENGINE or OCR_LANGUAGES stops the start with a clear message instead of failing documents.
 */
export async function checkOcrInstalled(settings: OcrSettings): Promise<void> {
  if (settings.engine === 'tesseract.js') {
    const missing = settings.languages.filter((lang) => {
      try {
        tesseractJsDataFile(lang);
        return false;
      } catch {
        return true;
      }
    });
    if (missing.length > 0) {
      throw new Error(
        `OCR_LANGUAGES: no data for ${missing.join(', ')} (npm install ${missing.map((l) => `@tesseract.js-data/${l}`).join(' ')})`,
      );
    }
    return;
  }
  let listed: string;
  try {
    listed = (await promisify(execFile)(TESSERACT_CLI, ['--list-langs'], { timeout: 10_000 })).stdout;
  } catch (err) {
    throw new Error(
      `OCR_ENGINE=tesseract: the tesseract command cannot run (apt-get install tesseract-ocr): ${(err as Error).message}`,
    );
  }
  const installed = new Set(listed.split('\n').map((l) => l.trim()));
  const missing = settings.languages.filter((lang) => !installed.has(lang));
  if (missing.length > 0) {
    throw new Error(
      `OCR_LANGUAGES: tesseract has no data for ${missing.join(', ')} (apt-get install ${missing.map((l) => `tesseract-ocr-${l.replace('_', '-').toLowerCase()}`).join(' ')})`,
    );
  }
}
