import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  SearchDocument,
  SearchEngine,
  SearchFilter,
  SearchQuery,
  SearchResult,
} from '../../../src/services/search/search-engine.ts';

/** What an engine's test file provides: a ready engine, a way to empty it, and cleanup. */
export interface SearchEngineHarness {
  engine: SearchEngine;
  /** Removes every indexed document; settings stay. */
  reset(): Promise<void>;
  teardown(): Promise<void>;
}

/** A realistic small document; a fresh uuid and version unless given. */
export function makeSearchDocument(overrides: Partial<SearchDocument> = {}): SearchDocument {
  const createdAt = overrides.createdAt ?? new Date('2024-05-01T09:00:00.000Z');
  return {
    id: randomUUID(),
    filename: 'meeting-notes.txt',
    text: 'Notes from the weekly meeting with Acme Logistics about delivery schedules.',
    keywords: ['meeting', 'delivery'],
    contactId: null,
    contactName: null,
    documentType: null,
    status: 'COMPLETED',
    language: 'en',
    createdAt,
    version: createdAt.getTime() + 60_000,
    ...overrides,
  };
}

/** reset() for any engine: remove whatever inventory() reports. */
export async function removeEverything(engine: SearchEngine): Promise<void> {
  await engine.remove([...(await engine.inventory()).keys()]);
}

const day = (iso: string) => new Date(`${iso}T10:00:00.000Z`);

function buildCorpus() {
  const amina = randomUUID();
  const lars = randomUUID();
  const priya = randomUUID();
  const docs = {
    zanzibar: makeSearchDocument({
      filename: 'zanzibar-clove-shipment.pdf',
      text: 'Shipping schedule for the Zanzibar clove harvest. Acme will book two containers from Stone Town to Rotterdam in June.',
      keywords: ['shipping', 'cloves', 'containers'],
      contactId: amina,
      contactName: 'Amina Mwangi',
      documentType: 'shipping',
      createdAt: day('2024-01-10'),
    }),
    turbineBoth: makeSearchDocument({
      filename: 'service-report-17.pdf',
      text: 'Acme field report: turbine maintenance was completed on the north site; the gearbox oil was replaced.',
      keywords: ['field report', 'gearbox'],
      contactId: lars,
      contactName: 'Lars Jensen',
      documentType: 'maintenance',
      createdAt: day('2024-02-05'),
    }),
    turbineOne: makeSearchDocument({
      filename: 'site-visit-photos.pdf',
      text: 'Photos of the turbine blades taken during the Acme site visit. Some erosion is visible on the leading edge.',
      keywords: ['photos', 'blades'],
      contactId: lars,
      contactName: 'Lars Jensen',
      documentType: 'maintenance',
      createdAt: day('2024-03-20'),
    }),
    invoiceTitle: makeSearchDocument({
      filename: 'invoice-2024-03.pdf',
      text: 'Acme Logistics, March statement for freight services. Payment due within thirty days.',
      keywords: ['freight', 'payment'],
      contactId: amina,
      contactName: 'Amina Mwangi',
      documentType: 'invoice',
      createdAt: day('2024-03-01'),
    }),
    invoiceBody: makeSearchDocument({
      filename: 'call-notes.txt',
      text: 'Invoice questions from Acme: the invoice total looked wrong, so a corrected invoice will follow.',
      keywords: ['call'],
      contactId: priya,
      contactName: 'Priya Raman',
      documentType: 'notes',
      createdAt: day('2024-04-02'),
    }),
    harbour: makeSearchDocument({
      filename: 'harbour-inspection.html',
      text: 'Harbour inspection summary for Acme: <script>alert("pwned")</script> & <b>cranes</b> need new cables.',
      keywords: ['inspection'],
      documentType: 'notes',
      createdAt: day('2024-04-15'),
    }),
    failed: makeSearchDocument({
      filename: 'fax-0412.pdf',
      text: 'Scanned fax from Acme could not be read; resend requested.',
      keywords: ['fax', 'scan'],
      contactId: priya,
      contactName: 'Priya Raman',
      documentType: 'fax',
      status: 'FAILED',
      language: null,
      createdAt: day('2024-04-12'),
    }),
    french: makeSearchDocument({
      filename: 'devis-transport.pdf',
      text: 'Devis pour Acme : transport de marchandises entre Lyon et Marseille.',
      keywords: ['devis'],
      documentType: 'quote',
      language: 'fr',
      createdAt: day('2024-05-02'),
    }),
    weirdType: makeSearchDocument({
      filename: 'contract-draft.docx',
      text: 'Draft services contract between Acme and the consultancy, version two.',
      keywords: ['contract'],
      documentType: 'contract "draft" \\ v2',
      createdAt: day('2024-05-20'),
    }),
    pending: makeSearchDocument({
      filename: 'budget-2025.xlsx',
      text: 'Acme budget forecast for next year, pending review by finance.',
      keywords: ['budget', 'forecast'],
      contactId: amina,
      contactName: 'Amina Mwangi',
      documentType: 'budget',
      status: 'PENDING',
      createdAt: day('2024-06-01'),
    }),
  };
  return { docs, contacts: { amina, lars, priya } };
}

/** The documented filter semantics: exact values, createdAfter inclusive, createdBefore exclusive. */
function matches(doc: SearchDocument, f: SearchFilter): boolean {
  return (
    (f.documentType === undefined || doc.documentType === f.documentType) &&
    (f.contactId === undefined || doc.contactId === f.contactId) &&
    (f.status === undefined || doc.status === f.status) &&
    (f.language === undefined || doc.language === f.language) &&
    (f.createdAfter === undefined || doc.createdAt.getTime() >= f.createdAfter.getTime()) &&
    (f.createdBefore === undefined || doc.createdAt.getTime() < f.createdBefore.getTime())
  );
}

const ids = (r: SearchResult) => r.hits.map((h) => h.id);

/**
 * The behaviour every SearchEngine must show. Semantics pinned here:
 * - a query matches documents containing its words (filename, text, keywords, contact name), with
 *   typo tolerance; more matched words rank higher, a filename match above a text-only match;
 * - a query without words (empty, blanks, punctuation) matches every document passing the filter,
 *   newest first; the query string can never change the filter;
 * - filters are exact values; createdAfter is inclusive, createdBefore exclusive;
 * - highlights wrap matched words in `<em></em>` and HTML-escape everything else;
 * - totalHits is exact and the same on every page; the order is stable between calls.
 */
export function defineSearchEngineContract(name: string, setup: () => Promise<SearchEngineHarness>): void {
  describe(`SearchEngine contract: ${name}`, () => {
    let h: SearchEngineHarness;
    const search = (query: string, more: Partial<Omit<SearchQuery, 'query'>> = {}) =>
      h.engine.search({ query, filter: {}, limit: 50, offset: 0, ...more });

    beforeAll(async () => {
      h = await setup();
      await h.engine.ensureSettings();
      await h.reset();
    });
    afterAll(async () => {
      await h?.teardown();
    });

    describe('on a small corpus', () => {
      const { docs, contacts } = buildCorpus();
      const all = Object.values(docs);
      const expectFilter = async (filter: SearchFilter) => {
        const expected = all.filter((d) => matches(d, filter)).map((d) => d.id);
        const res = await search('acme', { filter });
        expect(new Set(ids(res))).toEqual(new Set(expected));
        expect(res.totalHits).toBe(expected.length);
        expect(res.hits).toHaveLength(expected.length);
        return expected;
      };

      beforeAll(async () => {
        await h.engine.index(all);
      });

      it('ensureSettings can run again', async () => {
        await h.engine.ensureSettings();
        expect(ids(await search('zanzibar'))).toEqual([docs.zanzibar.id]);
      });

      it('tolerates a typo ("zanzibr" finds "Zanzibar")', async () => {
        const res = await search('zanzibr');
        expect(ids(res)[0]).toBe(docs.zanzibar.id);
        expect(res.totalHits).toBeGreaterThanOrEqual(1);
      });

      it('ranks a document matching both words above one matching the first only', async () => {
        const order = ids(await search('turbine maintenance'));
        expect(order).toContain(docs.turbineBoth.id);
        expect(order).toContain(docs.turbineOne.id);
        expect(order.indexOf(docs.turbineBoth.id)).toBeLessThan(order.indexOf(docs.turbineOne.id));
        expect(order[0]).toBe(docs.turbineBoth.id);
      });

      // The text-only document is newer and starts with the word: only the filename can rank the other first.
      it('ranks a filename match above a text that repeats the word', async () => {
        const order = ids(await search('invoice'));
        expect(order.slice(0, 2)).toEqual([docs.invoiceTitle.id, docs.invoiceBody.id]);
      });

      it('returns scores as finite numbers or null', async () => {
        const res = await search('zanzibar');
        for (const hit of res.hits) expect(hit.score === null || Number.isFinite(hit.score)).toBe(true);
        expect(res.processingTimeMs).toBeGreaterThanOrEqual(0);
      });

      it('highlights matched words with <em> in text and filename', async () => {
        const [hit] = (await search('zanzibar')).hits;
        expect(hit?.id).toBe(docs.zanzibar.id);
        const text = hit!.highlights.find((x) => x.field === 'text');
        const filename = hit!.highlights.find((x) => x.field === 'filename');
        expect(text?.snippet).toMatch(/<em>zanzibar<\/em>/i);
        expect(filename?.snippet).toMatch(/<em>zanzibar<\/em>/i);
      });

      it('HTML-escapes everything in a snippet except the <em> tags', async () => {
        const [hit] = (await search('harbour')).hits;
        expect(hit?.id).toBe(docs.harbour.id);
        const text = hit!.highlights.find((x) => x.field === 'text')!.snippet;
        expect(text).toMatch(/<em>harbour<\/em>/i);
        expect(text).toContain('&lt;script&gt;');
        expect(text).not.toMatch(/<script|<b>/i);
        const bare = text.replace(/<\/?em>/g, '');
        expect(bare).not.toMatch(/[<>]/);
        expect(bare).not.toMatch(/&(?!(amp|lt|gt|quot|#39|#x27|#34);)/);
      });

      it('filters by documentType', async () => {
        expect(await expectFilter({ documentType: 'maintenance' })).toHaveLength(2);
      });

      it('filters by a documentType holding quotes and backslashes', async () => {
        expect(await expectFilter({ documentType: 'contract "draft" \\ v2' })).toEqual([docs.weirdType.id]);
      });

      it('filters by contactId', async () => {
        expect(await expectFilter({ contactId: contacts.amina })).toHaveLength(3);
      });

      it('filters by status', async () => {
        expect(await expectFilter({ status: 'FAILED' })).toEqual([docs.failed.id]);
        expect(await expectFilter({ status: 'COMPLETED' })).toHaveLength(8);
      });

      it('filters by language', async () => {
        expect(await expectFilter({ language: 'fr' })).toEqual([docs.french.id]);
      });

      it('filters by createdAfter (inclusive)', async () => {
        const found = await expectFilter({ createdAfter: docs.invoiceTitle.createdAt });
        expect(found).toContain(docs.invoiceTitle.id);
        expect(found).toHaveLength(8);
      });

      it('filters by createdBefore (exclusive)', async () => {
        const found = await expectFilter({ createdBefore: docs.invoiceTitle.createdAt });
        expect(found.sort()).toEqual([docs.zanzibar.id, docs.turbineBoth.id].sort());
      });

      it('combines filters with AND', async () => {
        const found = await expectFilter({
          documentType: 'maintenance',
          contactId: contacts.lars,
          status: 'COMPLETED',
          language: 'en',
          createdAfter: day('2024-03-01'),
          createdBefore: day('2024-12-31'),
        });
        expect(found).toEqual([docs.turbineOne.id]);
        await expectFilter({ contactId: contacts.priya, status: 'COMPLETED' });
        await expectFilter({
          documentType: 'notes',
          createdAfter: day('2024-04-10'),
          createdBefore: day('2024-04-16'),
        });
      });

      it('matches every document passing the filter for a query without words, newest first', async () => {
        for (const query of ['', '   ']) {
          const res = await search(query, { filter: { contactId: contacts.amina } });
          expect(ids(res)).toEqual([docs.pending.id, docs.invoiceTitle.id, docs.zanzibar.id]);
          expect(res.totalHits).toBe(3);
        }
      });

      it('pages with limit/offset, totalHits the same on every page', async () => {
        const full = await search('acme');
        expect(full.totalHits).toBe(all.length);
        expect(new Set(ids(full)).size).toBe(all.length);
        const paged: string[] = [];
        for (let offset = 0; offset < all.length; offset += 3) {
          const page = await search('acme', { offset, limit: 3 });
          expect(page.totalHits).toBe(all.length);
          paged.push(...ids(page));
        }
        expect(paged).toEqual(ids(full));
        for (const [offset, limit] of [
          [2, 4],
          [5, 5],
          [9, 3],
          [1, 1],
        ] as const) {
          const page = await search('acme', { offset, limit });
          expect(ids(page)).toEqual(ids(full).slice(offset, offset + limit));
          expect(page.totalHits).toBe(all.length);
        }
        for (const offset of [all.length, all.length + 7]) {
          const past = await search('acme', { offset, limit: 3 });
          expect(past.hits).toEqual([]);
          expect(past.totalHits).toBe(all.length);
        }
      });

      it('treats hostile query strings as words: no error, the filter still holds', async () => {
        const completed = new Set(all.filter((d) => d.status === 'COMPLETED').map((d) => d.id));
        const known = new Set(all.map((d) => d.id));
        const hostile = [
          '"',
          '\\',
          '"\\',
          'AND status = "FAILED"',
          'acme" OR status = "FAILED',
          ') OR (1=1',
          "'; DROP TABLE documents; --",
          '<script>alert(1)</script>',
          '* % _ ? ~ ! & | :',
          'Zürich 東京 🦀 naïve café',
          'x'.repeat(1000),
          'zanzibar clove '.repeat(67).slice(0, 1000),
          '"\\'.repeat(500),
        ];
        for (const query of hostile) {
          const filtered = await search(query, { filter: { status: 'COMPLETED' } });
          for (const id of ids(filtered)) expect(completed.has(id)).toBe(true);
          expect(filtered.totalHits).toBeLessThanOrEqual(completed.size);
          const open = await search(query);
          for (const id of ids(open)) expect(known.has(id)).toBe(true);
          expect(new Set(ids(open)).size).toBe(open.hits.length);
        }
        expect(ids(await search('AND status = "FAILED"'))).not.toContain(docs.failed.id);
        expect(ids(await search('x'.repeat(1000)))).toEqual([]);
      });

      it('matches nothing for hostile filter values instead of widening', async () => {
        const hostile: SearchFilter[] = [
          { documentType: 'x" OR status != "' },
          { documentType: 'x\\" OR status != \\"' },
          { documentType: 'notes\\' },
          { documentType: ') OR (status != "x' },
          { contactId: '" OR contactId != "' },
          { language: "en' OR language != 'en" },
          { status: 'COMPLETED" OR status = "FAILED' as SearchFilter['status'] },
        ];
        for (const filter of hostile) {
          const res = await search('acme', { filter });
          expect(res.hits).toEqual([]);
          expect(res.totalHits).toBe(0);
          expect((await search('', { filter })).totalHits).toBe(0);
        }
      });
    });

    describe('when documents change', () => {
      beforeEach(async () => {
        await h.reset();
      });

      it('is empty after reset', async () => {
        expect((await h.engine.inventory()).size).toBe(0);
        expect((await search('acme')).totalHits).toBe(0);
      });

      it('accepts empty batches', async () => {
        await h.engine.index([]);
        await h.engine.remove([]);
        expect((await h.engine.inventory()).size).toBe(0);
      });

      it('no longer finds removed documents; unknown ids are ignored', async () => {
        const pelican = makeSearchDocument({ text: 'Pelican colony survey for the coastal reserve.' });
        const walrus = makeSearchDocument({ text: 'Walrus haul-out counts along the northern shore.' });
        const narwhal = makeSearchDocument({ text: 'Narwhal acoustic tags recovered by the field team.' });
        await h.engine.index([pelican, walrus, narwhal]);
        expect(ids(await search('walrus'))).toEqual([walrus.id]);
        await h.engine.remove([walrus.id, randomUUID()]);
        expect((await search('walrus')).totalHits).toBe(0);
        expect(ids(await search('pelican'))).toEqual([pelican.id]);
        expect(ids(await search('narwhal'))).toEqual([narwhal.id]);
        expect([...(await h.engine.inventory()).keys()].sort()).toEqual([pelican.id, narwhal.id].sort());
      });

      it('replaces a document indexed again under the same id', async () => {
        const first = makeSearchDocument({
          text: 'Quarterly pelican census for the estuary.',
          version: 1000,
        });
        await h.engine.index([first]);
        expect(ids(await search('pelican'))).toEqual([first.id]);
        const second = { ...first, text: 'Albatross nesting survey on the outer islands.', version: 2000 };
        await h.engine.index([second]);
        expect((await search('pelican')).totalHits).toBe(0);
        const res = await search('albatross');
        expect(ids(res)).toEqual([first.id]);
        expect(res.totalHits).toBe(1);
        expect(await h.engine.inventory()).toEqual(new Map([[first.id, 2000]]));
      });

      it('reports every indexed id with its version', async () => {
        const docs = Array.from({ length: 25 }, (_, i) =>
          makeSearchDocument({ text: `Delivery note ${i + 1} for the Acme warehouse.`, version: 5000 + i }),
        );
        await h.engine.index(docs);
        expect(await h.engine.inventory()).toEqual(new Map(docs.map((d) => [d.id, d.version])));
        expect((await search('warehouse', { limit: 10 })).totalHits).toBe(25);
      });

      it('answers health checks', async () => {
        await expect(h.engine.health()).resolves.toBeUndefined();
      });
    });
  });
}
