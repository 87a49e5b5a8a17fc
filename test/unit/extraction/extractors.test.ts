import { describe, expect, it } from 'vitest';
import { ExtractionError } from '../../../src/services/extraction/extraction.ts';
import {
  extract,
  extractDocx,
  extractMarkdown,
  extractPdf,
  extractPlainText,
} from '../../../src/services/extraction/extractors.ts';
import { computeInsights } from '../../../src/services/extraction/insights.ts';
import {
  makeDocx,
  makeDrawingOnlyPdf,
  makeLyingDocx,
  makePdf,
  makeZip,
  pseudoRandomBytes,
  utf8,
} from '../../support/extraction-fixtures.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

async function expectMalformed(run: () => Promise<unknown>, withinMs: number) {
  const started = performance.now();
  const error = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExtractionError);
  expect((error as ExtractionError).reason).toBe('malformed');
  expect((error as ExtractionError).message).toMatch(/not a readable/);
  expect(performance.now() - started).toBeLessThan(withinMs);
}

describe('PDF extraction', () => {
  it('reads the text and the page count of a one-page PDF', async () => {
    const pdf = await makePdf(['Quarterly budget review for the Zephyr project']);
    const result = await extractPdf(pdf);
    expect(result.pageCount).toBe(1);
    expect(result.text).toBe('Quarterly budget review for the Zephyr project');
  });

  it('reads every page of a ten-page PDF, in order', async () => {
    const pages = Array.from({ length: 10 }, (_, i) => `Page marker alpha${i} with shared vocabulary`);
    const result = await extractPdf(await makePdf(pages));
    expect(result.pageCount).toBe(10);
    const positions = pages.map((_, i) => result.text.indexOf(`alpha${i} `));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(result.text).not.toMatch(/-- \d+ of \d+ --/);
  });

  it('flags a PDF with pages but no text layer as needing OCR', async () => {
    const result = await extractPdf(await makeDrawingOnlyPdf(3));
    expect(result).toEqual({ text: '', pageCount: 3, scannedPages: [1, 2, 3] });
    expect(computeInsights(result.text, result.pageCount)).toMatchObject({ wordCount: 0, needsOcr: true });
  });

  it('rejects truncated and random-byte PDFs as malformed, quickly', async () => {
    const pdf = await makePdf(['Some text that will be cut off']);
    await expectMalformed(() => extractPdf(pdf.slice(0, Math.floor(pdf.length / 2))), 2000);
    await expectMalformed(() => extractPdf(pdf.slice(0, 200)), 2000);
    await expectMalformed(() => extractPdf(pseudoRandomBytes(20_000)), 2000);
    const fakeHeader = Uint8Array.from([...utf8('%PDF-1.7\n'), ...pseudoRandomBytes(20_000, 7)]);
    await expectMalformed(() => extractPdf(fakeHeader), 2000);
    await expectMalformed(() => extractPdf(new Uint8Array(0)), 2000);
  });
});

describe('text extraction', () => {
  it('decodes UTF-8 and strips the byte order mark', async () => {
    const result = await extractPlainText(utf8('\uFEFFCafé au lait\nsecond line'));
    expect(result).toEqual({ text: 'Café au lait\nsecond line', pageCount: null });
  });

  it('reduces Markdown to its words', async () => {
    const markdown = [
      '# Project *Aurora*',
      '',
      'Setext title',
      '============',
      '',
      'Some **bold**, _italic_ and ~~struck~~ words; keep snake_case_name.',
      'See [the handbook](https://example.com/handbook "title") and ![a diagram](img/d.png).',
      'Reference [style link][ref] and <https://example.org/auto>.',
      '',
      '> Quoted wisdom',
      '- first item',
      '1. numbered item',
      '- [x] done task',
      '',
      '| Name | Role |',
      '| ---- | :--: |',
      '| Ada  | Lead |',
      '',
      '```ts',
      'const answer = 42; // code kept as text',
      '```',
      '',
      'Inline `npm run build` here. Escaped \\*stars\\* and \\_under\\_.',
      '',
      '---',
      '[ref]: https://example.com/ref',
    ].join('\n');
    const { text, pageCount } = await extractMarkdown(utf8(markdown));
    expect(pageCount).toBeNull();
    expect(text.split('\n').filter(Boolean)).toEqual([
      'Project Aurora',
      'Setext title',
      'Some bold, italic and struck words; keep snake_case_name.',
      'See the handbook and a diagram.',
      'Reference style link and https://example.org/auto.',
      'Quoted wisdom',
      'first item',
      'numbered item',
      'done task',
      'Name Role',
      'Ada Lead',
      'const answer = 42; // code kept as text',
      'Inline npm run build here. Escaped *stars* and _under_.',
    ]);
  });
});

describe('DOCX extraction', () => {
  it('reads the paragraphs of a Word document', async () => {
    const docx = await makeDocx(['Statement of work', 'Deliverables & milestones <phase one>']);
    const result = await extractDocx(docx);
    expect(result).toEqual({
      text: 'Statement of work\n\nDeliverables & milestones <phase one>',
      pageCount: null,
    });
  });

  it('rejects a ZIP without a document part and a truncated DOCX as malformed', async () => {
    await expectMalformed(async () => extractDocx(await makeZip({ 'a.txt': 'not a document' })), 2000);
    const docx = await makeDocx(['Cut short']);
    await expectMalformed(() => extractDocx(docx.slice(0, docx.length - 40)), 2000);
    await expectMalformed(() => extractDocx(pseudoRandomBytes(5000)), 2000);
  });
});

describe('extract', () => {
  it('refuses, before decoding, text or a DOCX that would unpack past the limit', async () => {
    const limits = { maxDecodedBytes: 1000 };
    const memory = {
      reason: 'memory',
      message: 'The document unpacks to more text than the memory limit allows',
    };
    await expect(extract(utf8('x'.repeat(501)), 'text/plain', limits)).rejects.toMatchObject(memory);
    await expect(extract(utf8('x'.repeat(500)), 'text/markdown', limits)).resolves.toMatchObject({
      pageCount: null,
    });
    await expect(extract(await makeDocx(['y'.repeat(1000)]), DOCX, limits)).rejects.toMatchObject(memory);
    const pdf = await makePdf(['PDF text is not estimated up front']);
    await expect(extract(pdf, 'application/pdf', limits)).resolves.toMatchObject({ pageCount: 1 });
  });

  it('dispatches on the sniffed type', async () => {
    expect(await extract(utf8('**bold** text'), 'text/markdown')).toEqual({
      text: 'bold text',
      pageCount: null,
    });
    expect(await extract(utf8('**bold** text'), 'text/plain')).toEqual({
      text: '**bold** text',
      pageCount: null,
    });
  });
});

describe('the unzipped size guard', () => {
  it('counts the bytes a DOCX really inflates to, not what its headers declare', async () => {
    const lying = makeLyingDocx(8 * 2 ** 20);
    await expect(extract(lying, DOCX, { maxDecodedBytes: 2 ** 30 })).rejects.toMatchObject({
      reason: 'malformed',
      message: 'The file unpacks to more than its ZIP headers declare',
    });
    const honest = await makeDocx(['small and honest']);
    await expect(extract(honest, DOCX, { maxDecodedBytes: 2 ** 20 })).resolves.toMatchObject({
      text: 'small and honest',
    });
    await expect(extract(utf8('not a zip at all'), DOCX, { maxDecodedBytes: 2 ** 20 })).rejects.toMatchObject(
      {
        reason: 'malformed',
      },
    );
  });
});
