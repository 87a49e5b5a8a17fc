import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { type MeiliStandin, startMeiliStandin } from '../../support/meili-standin.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

// An engine that takes its time to apply an indexing task, as Meilisearch does under load.
describe('documentProcessed', () => {
  let meili: MeiliStandin;
  let t: TestApp;
  beforeAll(async () => {
    meili = await startMeiliStandin({ masterKey: 'test-master-key-0123456789', taskDelayMs: 1500 });
    t = await startTestApp({ MEILI_URL: meili.url, MEILI_API_KEY: 'test-master-key-0123456789' });
  });
  afterAll(async () => {
    await t.stop();
    await meili.stop();
  });

  const find = async () => {
    const r = await t.staff<{ searchDocuments: { hits: { document: { id: string } }[] } }>(
      'query { searchDocuments(query: "quokkaesque") { hits { document { id } } } }',
    );
    return r.data?.searchDocuments.hits.map((h) => h.document.id) ?? [];
  };

  it('arrives once the document can be found', async () => {
    const client = createClient({
      url: `${t.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${STAFF_TOKEN}` },
      retryAttempts: 0,
    });
    // Searched the moment each event arrives: a subscriber's first move after being told.
    const searched = new Map<string, Promise<string[]>>();
    const dispose = client.subscribe<{ documentProcessed: { id: string } }>(
      { query: 'subscription { documentProcessed { id } }' },
      {
        next: (e) => {
          const id = e.data?.documentProcessed.id;
          if (id) searched.set(id, find());
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    try {
      await new Promise((r) => setTimeout(r, 300));
      const up = await multipart<{ uploadDocument: { id: string } }>(
        t.url,
        UPLOAD,
        { file: null },
        [{ path: 'variables.file', name: 'marsupial.txt', content: 'The quokkaesque marsupial smiles.' }],
        { staff: true },
      );
      const id = up.data!.uploadDocument.id;
      await waitFor(async () => searched.has(id), 20_000, 'documentProcessed');
      expect(await searched.get(id)).toEqual([id]);
    } finally {
      dispose();
      await client.dispose();
    }
  });
});
