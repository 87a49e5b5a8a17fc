import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { contactInput } from '../../support/factories.ts';
import { multipart, SUBMIT_WITH_FILES, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
const ids: Record<string, string> = {};
let contactId = '';

const SEARCH = `query($q: String!, $filter: DocumentSearchFilter, $limit: Int, $offset: Int) {
  searchDocuments(query: $q, filter: $filter, limit: $limit, offset: $offset) {
    query totalHits processingTimeMs
    hits { score document { id filename status } highlights { field snippet } }
  }
}`;

interface Result {
  searchDocuments: {
    totalHits: number;
    hits: {
      score: number | null;
      document: { id: string; filename: string };
      highlights: { field: string; snippet: string }[];
    }[];
  };
}

const search = (q: string, filter?: Record<string, unknown>, limit?: number, offset?: number) =>
  t.staff<Result>(SEARCH, { q, filter, limit, offset });

const sql = <T>(text: string, params: unknown[] = []) => query<T>(t.databaseUrl, text, params);

const files = {
  spice: 'Zanzibar spice plantations export cloves and nutmeg across the Indian Ocean.',
  ledger: 'The quarterly ledger audit covers warehouse inventory and shipping contracts.',
  french: "Le rapport annuel de la coopérative décrit la récolte de vanille et l'exportation vers l'Europe.",
  script: 'Security review: the form echoed <script>alert(1)</script> back to Zanzibar visitors.',
};

beforeAll(async () => {
  t = await startTestApp();
  const r = await multipart<{
    submitContact: { contact: { id: string }; documents: { id: string; filename: string }[] };
  }>(t.url, SUBMIT_WITH_FILES, { input: contactInput(), attachments: [null, null] }, [
    { path: 'variables.attachments.0', name: 'spice.txt', content: files.spice },
    { path: 'variables.attachments.1', name: 'ledger.txt', content: files.ledger },
  ]);
  contactId = r.data!.submitContact.contact.id;
  for (const d of r.data!.submitContact.documents) ids[d.filename.replace('.txt', '')] = d.id;
  for (const name of ['french', 'script'] as const) {
    const u = await multipart<{ uploadDocument: { id: string } }>(
      t.url,
      UPLOAD,
      { file: null, documentType: name === 'french' ? 'report' : 'memo' },
      [{ path: 'variables.file', name: `${name}.txt`, content: files[name] }],
      { staff: true },
    );
    ids[name] = u.data!.uploadDocument.id;
  }
  await waitFor(
    async () =>
      (await search('zanzibar')).data?.searchDocuments.totalHits === 2 &&
      (await search('vanille')).data?.searchDocuments.totalHits === 1,
    30_000,
    'indexing',
  );
});
afterAll(() => t.stop());

describe('searchDocuments', () => {
  it('finds documents by their words, with <em> highlights and a score, and merges the entities', async () => {
    const r = await search('nutmeg');
    expect(r.errors).toBeUndefined();
    const { hits, totalHits } = r.data!.searchDocuments;
    expect(totalHits).toBe(1);
    expect(hits[0]!.document).toMatchObject({ id: ids.spice, filename: 'spice.txt' });
    expect(hits[0]!.highlights.map((h) => h.snippet).join(' ')).toContain('<em>nutmeg</em>');
    expect(typeof hits[0]!.score).toBe('number');
  });

  it('tolerates a typo', async () => {
    const r = await search('zanzibr');
    expect(r.data!.searchDocuments.hits.map((h) => h.document.id).sort()).toEqual(
      [ids.spice, ids.script].sort(),
    );
  });

  it('escapes document text in snippets', async () => {
    const r = await search('security review');
    const snippet = r.data!.searchDocuments.hits[0]!.highlights.map((h) => h.snippet).join(' ');
    expect(snippet).toContain('&lt;script&gt;');
    expect(snippet).not.toContain('<script>');
  });

  it('filters by contact, type, status, language and dates', async () => {
    const only = async (q: string, filter: Record<string, unknown>) =>
      (await search(q, filter)).data!.searchDocuments.hits.map((h) => h.document.id).sort();
    expect(await only('zanzibar', { contactId })).toEqual([ids.spice]);
    expect(await only('zanzibar', { documentType: 'memo' })).toEqual([ids.script]);
    expect(await only('zanzibar', { status: 'COMPLETED', language: 'en' })).toEqual(
      [ids.spice, ids.script].sort(),
    );
    expect(await only('vanille', { language: 'fr' })).toEqual([ids.french]);
    expect(await only('zanzibar', { createdAfter: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(await only('zanzibar', { createdBefore: new Date(Date.now() + 60_000).toISOString() })).toEqual(
      [ids.spice, ids.script].sort(),
    );
    expect(await only('zanzibar', { contactId: '" OR 1=1 --' })).toEqual([]);
  });

  it('pages with limit and offset', async () => {
    const a = (await search('zanzibar', undefined, 1, 0)).data!.searchDocuments;
    const b = (await search('zanzibar', undefined, 1, 1)).data!.searchDocuments;
    expect(a.totalHits).toBe(2);
    expect(b.totalHits).toBe(2);
    expect([a.hits[0]!.document.id, b.hits[0]!.document.id].sort()).toEqual([ids.spice, ids.script].sort());
  });

  it.each([
    [{ q: '' }, 'query'],
    [{ q: '   ' }, 'query'],
    [{ q: 'x', limit: 0 }, 'limit'],
    [{ q: 'x', limit: 101 }, 'limit'],
    [{ q: 'x', offset: -1 }, 'offset'],
  ])('refuses %o with BAD_USER_INPUT on %s', async (args, field) => {
    const r = await t.staff(SEARCH, args);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.issues?.map((i) => i.path.join('.'))).toEqual([field]);
  });

  it('drops and counts hits whose document is gone', async () => {
    const before = await search('ledger');
    expect(before.data!.searchDocuments.totalHits).toBe(1);
    await sql('delete from documents where id = $1', [ids.ledger]);
    const after = await search('ledger');
    expect(after.errors).toBeUndefined();
    expect(after.data!.searchDocuments.hits).toEqual([]);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^dossier_search_stale_hits_dropped_total 1$/m);
  });

  it('reports drift with `reindex --check` and repairs it with `reindex`', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((ok) => {
        const child = spawn(process.execPath, ['src/reindex.ts', ...args], {
          env: { ...process.env, DATABASE_URL: t.databaseUrl, DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' },
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
        });
        child.on('exit', (code) => ok({ code, out }));
      });
    const drift = await run(['--check']);
    expect(drift.code).toBe(1);
    expect(JSON.parse(drift.out)).toMatchObject({ mode: 'check', orphaned: 1, missing: 0 });
    const repaired = await run([]);
    expect(repaired.code).toBe(0);
    const clean = await run(['--check']);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.out)).toMatchObject({ missing: 0, stale: 0, orphaned: 0 });
  });
});
