import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { documentFinished } from '../../support/documents.ts';
import { uploadFile } from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

// JOB_POLL_SECONDS is how often idle workers look for jobs of other processes, retries and scheduled
// ones. A job this process enqueues wakes its own workers when the transaction commits.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ JOB_POLL_SECONDS: '60' });
});
afterAll(() => t.stop());

describe('workers of the process that enqueues', () => {
  it('extract and index an upload at once, although idle workers poll once a minute', async () => {
    const { id } = await uploadFile(t.url, 'engines.txt', 'A brief about analytical engines.');
    // Well inside the minute a poll would take: only the wakes (extract, then index) get it there.
    expect((await documentFinished(t.url, id, 20_000)).status).toBe('COMPLETED');
    const found = await waitFor(
      async () => {
        const r = await t.staff<{
          searchDocuments: { hits: { document: { id: string; indexedAt: string } }[] };
        }>('query { searchDocuments(query: "analytical") { hits { document { id indexedAt } } } }');
        return r.data?.searchDocuments.hits.find((h) => h.document.id === id);
      },
      20_000,
      'the document in search',
    );
    expect(found.document.indexedAt).not.toBeNull();
  }, 45_000);
});
