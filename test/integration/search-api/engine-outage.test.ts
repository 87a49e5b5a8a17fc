import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { type MeiliStandin, startMeiliStandin } from '../../support/meili-standin.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

// Meilisearch configured (the stand-in); intake must not depend on it.
describe('when the search engine is down', () => {
  let meili: MeiliStandin;
  let t: TestApp;
  beforeAll(async () => {
    meili = await startMeiliStandin({ masterKey: 'test-master-key-0123456789' });
    t = await startTestApp({ MEILI_URL: meili.url, MEILI_API_KEY: 'test-master-key-0123456789' });
  });
  afterAll(async () => {
    await t.stop();
    await meili.stop();
  });

  const SEARCH = 'query($q: String!) { searchDocuments(query: $q) { totalHits hits { document { id } } } }';

  it('still takes documents, answers search with SERVICE_UNAVAILABLE, and indexes once it is back', async () => {
    meili.setFailure('proxy-503');
    const up = await multipart<{ uploadDocument: { id: string } }>(
      t.url,
      UPLOAD,
      { file: null },
      [
        {
          path: 'variables.file',
          name: 'kilimanjaro.txt',
          content: 'Kilimanjaro coffee cooperative harvest report.',
        },
      ],
      { staff: true },
    );
    expect(up.errors).toBeUndefined();
    const id = up.data!.uploadDocument.id;
    await waitFor(
      async () => {
        const r = await t.staff<{ document: { status: string } }>(
          'query($id: ID!) { document(id: $id) { status } }',
          { id },
        );
        return r.data?.document.status === 'COMPLETED';
      },
      20_000,
      'extraction',
    );

    const down = await t.staff(SEARCH, { q: 'kilimanjaro' });
    expect(down.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const ready = (await (await fetch(`${t.url}/ready`)).json()) as {
      ready: boolean;
      dependencies: { search: string };
    };
    expect(ready).toMatchObject({ ready: true, dependencies: { search: 'down' } });

    meili.setFailure(null);
    const found = await waitFor(
      async () => {
        const r = await t.staff<{ searchDocuments: { hits: { document: { id: string } }[] } }>(SEARCH, {
          q: 'kilimanjaro',
        });
        return r.data?.searchDocuments.hits.length ? r.data.searchDocuments.hits : null;
      },
      30_000,
      'indexing to be retried',
    );
    expect(found.map((h) => h.document.id)).toEqual([id]);
  }, 60_000);

  it('refuses reprocessDocument with SERVICE_UNAVAILABLE and leaves the document as it was', async () => {
    meili.setFailure(null);
    const up = await multipart<{ uploadDocument: { id: string } }>(
      t.url,
      UPLOAD,
      { file: null },
      [{ path: 'variables.file', name: 'arabica.txt', content: 'Arabica roasting notes for the spring.' }],
      { staff: true },
    );
    const id = up.data!.uploadDocument.id;
    const DOC = 'query($id: ID!) { document(id: $id) { status text } }';
    const completed = await waitFor(
      async () => {
        const r = await t.staff<{ document: { status: string; text: string } }>(DOC, { id });
        return r.data?.document.status === 'COMPLETED' ? r.data.document : null;
      },
      20_000,
      'extraction',
    );

    meili.setFailure('proxy-503');
    try {
      const r = await t.staff('mutation($id: ID!) { reprocessDocument(id: $id) { id status } }', { id });
      expect(r.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(r.data?.reprocessDocument ?? null).toBeNull();
      expect((await t.staff<{ document: unknown }>(DOC, { id })).data?.document).toEqual(completed);
    } finally {
      meili.setFailure(null);
    }
  });
});
