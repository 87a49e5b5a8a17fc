import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { makePdf } from '../../support/extraction-fixtures.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const REPROCESS = /* GraphQL */ `
  mutation($id: ID!) { reprocessDocument(id: $id) { id status error insights { pageCount } indexedAt } }
`;
const STATE = /* GraphQL */ `query($id: ID!) { document(id: $id) { status error text indexedAt insights { pageCount } } }`;

interface State {
  status: string;
  error: string | null;
  text: string | null;
  indexedAt: string | null;
  insights: { pageCount: number } | null;
}

const state = async (id: string) => (await t.staff<{ document: State }>(STATE, { id })).data!.document;
const settled = (id: string) =>
  waitFor(
    async () => {
      const s = await state(id);
      return s.status === 'COMPLETED' || s.status === 'FAILED' ? s : null;
    },
    20_000,
    'extraction to finish',
  );

async function uploadPdf(name: string, content: Uint8Array): Promise<string> {
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

async function uploadBrokenPdf(): Promise<string> {
  const good = await makePdf(['Quarterly ledger of the spice trade']);
  return uploadPdf('ledger.pdf', good.subarray(0, Math.floor(good.length / 3)));
}

describe('reprocessDocument', () => {
  it('runs extraction again: FAILED again with the reason, then COMPLETED once the file is fixed', async () => {
    const id = await uploadBrokenPdf();
    const failed = await settled(id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBeTruthy();

    const again = await t.staff<{ reprocessDocument: State }>(REPROCESS, { id });
    expect(again.errors).toBeUndefined();
    expect(again.data!.reprocessDocument).toMatchObject({ status: 'PENDING', error: null, indexedAt: null });
    expect(await settled(id)).toMatchObject({ status: 'FAILED', error: failed.error });

    const [row] = await query<{ key: string }>(
      t.databaseUrl,
      'select storage_key as key from documents where id = $1',
      [id],
    );
    await writeFile(
      join(t.dataDir, 'objects', row!.key),
      await makePdf(['Quarterly ledger of the spice trade']),
    );
    await t.staff(REPROCESS, { id });
    const done = await settled(id);
    expect(done).toMatchObject({ status: 'COMPLETED', error: null, insights: { pageCount: 1 } });
    expect(done.text).toContain('Quarterly ledger');
    await waitFor(async () => (await state(id)).indexedAt, 20_000, 'the index step');
  });

  it('leaves a completed document searchable when the reprocess fails after taking it out of the index', async () => {
    const id = await uploadPdf(
      'orchids.pdf',
      await makePdf(['Zygomorphic orchids of the Ruwenzori cloud forest']),
    );
    const found = async () => {
      const s = await t.staff<{ searchDocuments: { hits: { document: { id: string } }[] } }>(
        'query { searchDocuments(query: "zygomorphic") { hits { document { id } } } }',
      );
      return s.data!.searchDocuments.hits.some((h) => h.document.id === id);
    };
    await waitFor(found, 20_000, 'the document to be searchable');
    // The reprocess's transaction fails at its last statement, after the engine removal.
    await query(
      t.databaseUrl,
      `create function fail_reprocess() returns trigger language plpgsql as $$
       begin raise exception 'injected failure'; end $$;
       create trigger fail_reprocess before insert on audit_events for each row
       when (new.action = 'document.reprocess') execute function fail_reprocess();`,
    );
    try {
      const failed = await t.staff(REPROCESS, { id });
      expect(failed.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      await query(
        t.databaseUrl,
        'drop trigger fail_reprocess on audit_events; drop function fail_reprocess();',
      );
    }
    expect(await state(id)).toMatchObject({ status: 'COMPLETED' });
    await waitFor(found, 10_000, 'the document to be searchable again');
  });

  it('is CONFLICT while the document is pending or processing, NOT_FOUND for an unknown id', async () => {
    const id = await uploadBrokenPdf();
    await settled(id);
    for (const status of ['PENDING', 'PROCESSING']) {
      await query(t.databaseUrl, 'update documents set status = $2 where id = $1', [id, status]);
      const r = await t.staff(REPROCESS, { id });
      expect(r.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    }
    for (const missing of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      const r = await t.staff(REPROCESS, { id: missing });
      expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });
});
