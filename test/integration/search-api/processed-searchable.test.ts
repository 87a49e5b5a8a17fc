import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { makePdf } from '../../support/extraction-fixtures.ts';
import { type MeiliStandin, startMeiliStandin } from '../../support/meili-standin.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

// An engine that takes its time to apply an indexing task, as Meilisearch does under load.
describe('documentProcessed', () => {
  let meili: MeiliStandin;
  let t: TestApp;
  beforeAll(async () => {
    meili = await startMeiliStandin({ masterKey: 'test-master-key-0123456789', taskDelayMs: 700 });
    t = await startTestApp({ MEILI_URL: meili.url, MEILI_API_KEY: 'test-master-key-0123456789' });
  });
  afterAll(async () => {
    await t.stop();
    await meili.stop();
  });

  const find = async (word: string) => {
    const r = await t.staff<{ searchDocuments: { hits: { document: { id: string } }[] } }>(
      'query($q: String!) { searchDocuments(query: $q) { hits { document { id } } } }',
      { q: word },
    );
    return r.data?.searchDocuments.hits.map((h) => h.document.id) ?? [];
  };

  /** Every documentProcessed event, with what searching `words` found the moment it arrived. */
  function subscribe(words: string[]) {
    const client = createClient({
      url: `${t.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${STAFF_TOKEN}` },
      retryAttempts: 0,
    });
    // Searched the moment each event arrives: a subscriber's first move after being told.
    const events: { id: string; status: string; found: Promise<Record<string, string[]>> }[] = [];
    const dispose = client.subscribe<{ documentProcessed: { id: string; status: string } }>(
      { query: 'subscription { documentProcessed { id status } }' },
      {
        next: (e) => {
          const d = e.data?.documentProcessed;
          if (!d) return;
          const found = Promise.all(words.map(async (w) => [w, await find(w)] as const));
          events.push({ ...d, found: found.then(Object.fromEntries) });
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    return {
      of: (id: string) => events.filter((e) => e.id === id),
      /** Waits for the `n`th event of `id`. */
      nth: (id: string, n: number) =>
        waitFor(async () => events.filter((e) => e.id === id)[n - 1], 20_000, `event ${n} of ${id}`),
      close: async () => {
        dispose();
        await client.dispose();
      },
    };
  }

  const upload = async (name: string, content: string | Uint8Array) => {
    const up = await multipart<{ uploadDocument: { id: string } }>(
      t.url,
      UPLOAD,
      { file: null },
      [{ path: 'variables.file', name, content }],
      { staff: true },
    );
    return up.data!.uploadDocument.id;
  };

  it('arrives once the document can be found', async () => {
    const sub = subscribe(['quokkaesque']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const id = await upload('marsupial.txt', 'The quokkaesque marsupial smiles.');
      expect((await (await sub.nth(id, 1)).found).quokkaesque).toEqual([id]);
    } finally {
      await sub.close();
    }
  });

  it('after a reprocess, arrives once, when the new text can be found; a failed one is no longer found', async () => {
    const sub = subscribe(['numbatine', 'bilbyesque', 'wombatish']);
    const rewrite = async (id: string, content: string | Uint8Array) => {
      const [row] = await query<{ key: string }>(
        t.databaseUrl,
        'select storage_key as key from documents where id = $1',
        [id],
      );
      await writeFile(join(t.dataDir, 'objects', row!.key), content);
    };
    const reprocess = async (id: string) => {
      const r = await t.staff('mutation($id: ID!) { reprocessDocument(id: $id) { id } }', { id });
      expect(r.errors).toBeUndefined();
    };
    try {
      await new Promise((r) => setTimeout(r, 300));
      const pdf = await makePdf(['The wombatish burrow']);
      const text = await upload('a.txt', 'The numbatine anteater digs.');
      const scan = await upload('b.pdf', pdf);
      await sub.nth(text, 1);
      expect((await (await sub.nth(scan, 1)).found).wombatish).toEqual([scan]);

      await rewrite(text, 'The bilbyesque bandicoot hops.');
      await reprocess(text);
      expect(await find('numbatine')).toEqual([]); // no longer found with its old text, at once
      const after = await (await sub.nth(text, 2)).found;
      expect(after).toMatchObject({ bilbyesque: [text], numbatine: [] });

      // Its failure comes after any second event of the first reprocess (one index queue, in order).
      await rewrite(scan, pdf.subarray(0, Math.floor(pdf.length / 3)));
      await reprocess(scan);
      const failed = await sub.nth(scan, 2);
      expect(failed.status).toBe('FAILED');
      expect((await failed.found).wombatish).toEqual([]);
      expect(sub.of(text)).toHaveLength(2);
    } finally {
      await sub.close();
    }
  });
});
