import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { makeScannedPdf, makeTextImage } from '../../support/extraction-fixtures.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

interface Doc {
  id: string;
  contentType: string;
  status: string;
  error: string | null;
  insights: { wordCount: number; pageCount: number | null; needsOcr: boolean; ocr: boolean } | null;
}

const DOC = `query($id: ID!) { document(id: $id) { id contentType status error insights { wordCount pageCount needsOcr ocr } } }`;
const SEARCH = `query($q: String!) { searchDocuments(query: $q) { totalHits hits { document { id } } } }`;

const SPICE = ['Zanzibar spice plantations export cloves', 'and nutmeg to the harbour of Mombasa.'];
const LEDGER = ['The quarterly ledger of the Kilimanjaro', 'coffee cooperative shows a surplus.'];

async function upload(t: TestApp, name: string, content: Uint8Array): Promise<string> {
  const r = await multipart<{ uploadDocument: { id: string } }>(
    t.url,
    UPLOAD,
    { file: null },
    [{ path: 'variables.file', name, content }],
    { staff: true },
  );
  expect(r.errors).toBeUndefined();
  return r.data!.uploadDocument.id;
}

/** The document once final, with its stored text (not in the API yet). */
const finished = async (t: TestApp, id: string) => {
  const doc = await waitFor(
    async () => {
      const d = (await t.staff<{ document: Doc }>(DOC, { id })).data?.document;
      return d && (d.status === 'COMPLETED' || d.status === 'FAILED') ? d : null;
    },
    60_000,
    `document ${id} to finish`,
  );
  const [row] = await query<{ text: string | null }>(
    t.databaseUrl,
    'select text from documents where id = $1',
    [id],
  );
  return { ...doc, text: row!.text };
};

const searchHits = async (t: TestApp, q: string) =>
  (
    await t.staff<{ searchDocuments: { hits: { document: { id: string } }[] } }>(SEARCH, { q })
  ).data?.searchDocuments.hits.map((h) => h.document.id) ?? [];

describe('OCR with tesseract.js (the default engine)', { timeout: 60_000 }, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ OCR_MAX_PAGES: '2' });
  });
  afterAll(() => t.stop());

  it('reads a PDF made of page images and makes its words searchable', async () => {
    const id = await upload(t, 'scan.pdf', await makeScannedPdf([{ scan: SPICE }]));
    const doc = await finished(t, id);
    expect(doc).toMatchObject({ status: 'COMPLETED', error: null, contentType: 'application/pdf' });
    expect(doc.insights).toMatchObject({ pageCount: 1, needsOcr: false, ocr: true });
    expect(doc.text).toMatch(
      /Zanzibar spice plantations export cloves\s+and nutmeg to the harbour of Mombasa/,
    );
    expect(await waitFor(async () => (await searchHits(t, 'nutmeg Mombasa')).includes(id), 20_000)).toBe(
      true,
    );
  });

  it('reads a PNG photo of a paragraph, typed by its bytes', async () => {
    const id = await upload(t, 'photo.pdf', await makeTextImage(LEDGER));
    const doc = await finished(t, id);
    expect(doc).toMatchObject({ status: 'COMPLETED', contentType: 'image/png' });
    expect(doc.insights).toMatchObject({ pageCount: 1, needsOcr: false, ocr: true });
    expect(doc.text).toContain('Kilimanjaro');
    expect(await waitFor(async () => (await searchHits(t, 'kilimanjaro surplus')).includes(id), 20_000)).toBe(
      true,
    );
  });

  it('keeps the text layer of a mixed PDF and recognises only its scanned page', async () => {
    // Page 1's text layer is invisible: had it been recognised, its words would be gone.
    const pdf = await makeScannedPdf([
      { text: 'Quetzalcoatl observatory records for the winter solstice.', invisible: true },
      { scan: SPICE },
    ]);
    const doc = await finished(t, await upload(t, 'mixed.pdf', pdf));
    expect(doc).toMatchObject({ status: 'COMPLETED' });
    expect(doc.insights).toMatchObject({ pageCount: 2, needsOcr: false, ocr: true });
    expect(doc.text).toMatch(/^Quetzalcoatl observatory records for the winter solstice\.\n\nZanzibar spice/);
  });

  it('fails a document with more pages to recognise than OCR_MAX_PAGES, saying why', async () => {
    const pdf = await makeScannedPdf([{ scan: SPICE }, { scan: LEDGER }, { scan: SPICE }]);
    const doc = await finished(t, await upload(t, 'long-scan.pdf', pdf));
    expect(doc.status).toBe('FAILED');
    expect(doc.error).toBe('3 pages have no text layer; OCR reads at most 2 pages of a document');
  });
});

describe('OCR limits and switches', { timeout: 60_000 }, () => {
  it('fails a page that takes longer than OCR_PAGE_TIMEOUT_MS, saying why', async () => {
    const t = await startTestApp({ OCR_PAGE_TIMEOUT_MS: '1', EXTRACTION_RETRIES: '0' });
    try {
      const doc = await finished(t, await upload(t, 'slow.png', await makeTextImage(SPICE)));
      expect(doc).toMatchObject({ status: 'FAILED', error: 'OCR of a page took longer than 1 ms' });
    } finally {
      await t.stop();
    }
  });

  it('with OCR_ENGINE=tesseract, reads a TIFF through the Debian tesseract command', async () => {
    const t = await startTestApp({ OCR_ENGINE: 'tesseract' });
    try {
      const doc = await finished(t, await upload(t, 'fax.tif', await makeTextImage(LEDGER, 'tiff')));
      expect(doc).toMatchObject({ status: 'COMPLETED', contentType: 'image/tiff' });
      expect(doc.insights).toMatchObject({ pageCount: 1, needsOcr: false, ocr: true });
      expect(doc.text).toMatch(/Kilimanjaro\s+coffee cooperative shows a surplus/);
    } finally {
      await t.stop();
    }
  });

  it('with OCR_ENGINE=off, accepts scans and leaves them flagged needsOcr', async () => {
    const t = await startTestApp({ OCR_ENGINE: 'off' });
    try {
      const image = await finished(t, await upload(t, 'photo.jpg', await makeTextImage(SPICE, 'jpeg')));
      expect(image).toMatchObject({ status: 'COMPLETED', contentType: 'image/jpeg', text: '' });
      expect(image.insights).toMatchObject({ wordCount: 0, pageCount: 1, needsOcr: true, ocr: false });
      const pdf = await finished(t, await upload(t, 'scan.pdf', await makeScannedPdf([{ scan: SPICE }])));
      expect(pdf).toMatchObject({ status: 'COMPLETED', text: '' });
      expect(pdf.insights).toMatchObject({ pageCount: 1, needsOcr: true, ocr: false });
    } finally {
      await t.stop();
    }
  });
});
