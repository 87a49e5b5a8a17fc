import { describe, expect, it } from 'vitest';
import { checkOcrInstalled } from '../../../src/services/extraction/ocr/languages.ts';

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
