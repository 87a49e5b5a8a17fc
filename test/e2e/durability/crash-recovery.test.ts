import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, query } from '../../support/db.ts';
import {
  documentStatus,
  dossierEnv,
  extractionJobState,
  type Proc,
  SLOW_PDF_PAGES,
  slowPdf,
  startServerProcess,
  stopProcess,
  tempDir,
  uploadFile,
} from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

// Extraction of the slow PDF takes 1-2 s of CPU (the limit counts CPU, not waiting for it); the job
// then expires 3 x 8 s + 10 s after it started.
const TUNING = {
  EXTRACTION_TIMEOUT_MS: '8000',
  JOB_MAINTENANCE_SECONDS: '1',
  EXTRACTION_RETRY_DELAY_SECONDS: '1',
};

describe('a server killed during extraction', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  const running: Proc[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await tempDir('dossier-crash-');
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => stopProcess(p)));
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs the job again after a restart; the document completes and none stays PROCESSING', async () => {
    const env = dossierEnv(db.url, dataDir, TUNING);
    const pdf = await slowPdf();
    const first = await startServerProcess(env);
    running.push(first);
    const { id } = await uploadFile(first.url, 'ledger.pdf', pdf);

    await waitFor(async () => (await documentStatus(db.url, id)) === 'PROCESSING', 20_000, 'PROCESSING');
    await stopProcess(first, 'SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(await documentStatus(db.url, id)).toBe('PROCESSING');
    expect(await extractionJobState(db.url, id)).toBe('active');

    const second = await startServerProcess(env);
    running.push(second);
    await waitFor(
      async () => (await documentStatus(db.url, id)) === 'COMPLETED',
      45_000,
      'the document to complete after the restart',
    );
    const [doc] = await query<{ attempts: number; error: string | null; pages: number }>(
      db.url,
      `select attempts, error, (insights->>'pageCount')::int as pages from documents where id = $1`,
      [id],
    );
    expect(doc).toEqual({ attempts: 2, error: null, pages: SLOW_PDF_PAGES });
    const stuck = await query(db.url, `select id from documents where status in ('PROCESSING', 'PENDING')`);
    expect(stuck).toEqual([]);
  }, 90_000);
});
