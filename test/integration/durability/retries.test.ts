import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers } from '../../../src/worker-runner.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { documentStatus, uploadFile } from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
beforeAll(async () => {
  // No workers yet: the object must be gone before the first try.
  t = await startTestApp({ WORKERS: '0', EXTRACTION_RETRIES: '2', EXTRACTION_RETRY_DELAY_SECONDS: '1' });
});
afterAll(() => t.stop());

describe('an extraction that keeps failing for an infrastructure reason', () => {
  it('is retried with backoff, then the dead-letter step marks the document FAILED with the reason', async () => {
    const { id } = await uploadFile(t.url, 'gone.txt', 'words that will never be read');
    const [row] = await query<{ storage_key: string }>(
      t.databaseUrl,
      'select storage_key from documents where id = $1',
      [id],
    );
    await rm(join(t.dataDir, 'objects', row!.storage_key));

    await startWorkers(t.app.services, 1);
    await waitFor(async () => (await documentStatus(t.databaseUrl, id)) === 'FAILED', 25_000, 'FAILED');

    const [doc] = await query<{ error: string; attempts: number; processed: boolean }>(
      t.databaseUrl,
      'select error, attempts, processed_at is not null as processed from documents where id = $1',
      [id],
    );
    // The key's last segment is the file's name: personal data, so the message stops before it.
    const folder = row!.storage_key.split('/').slice(0, -1).join('/');
    expect(doc!.error).toBe(`Extraction failed after retries: object not found: ${folder}/…`);
    expect(doc!.attempts).toBe(3);
    expect(doc!.processed).toBe(true);
    const jobs = () =>
      query<{ name: string; state: string; retry_count: number }>(
        t.databaseUrl,
        `select name, state, retry_count from pgboss.job where data->>'documentId' = $1 order by created_on`,
        [id],
      );
    // A failed document goes on to the index job too (out of the engine, then published).
    await waitFor(async () => (await jobs()).at(-1)?.state === 'completed', 10_000, 'the index job');
    expect(await jobs()).toEqual([
      { name: 'document-extract', state: 'failed', retry_count: 2 },
      { name: 'document-extract-failed', state: 'completed', retry_count: 0 },
      { name: 'document-index', state: 'completed', retry_count: 0 },
    ]);
    const res = await t.staff<{ document: { status: string; error: string } }>(
      'query($id: ID!) { document(id: $id) { status error } }',
      { id },
    );
    expect(res.data?.document).toEqual({ status: 'FAILED', error: doc!.error });
  }, 40_000);
});
