import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../support/app.ts';
import { postGraphQL, STAFF_TOKEN } from '../../support/app.ts';
import { createTestDatabase, query } from '../../support/db.ts';
import { type MeiliStandin, startMeiliStandin } from '../../support/meili-standin.ts';
import { eraseContact, erasureDone, processedAndNotified, submitMarked } from '../../support/privacy.ts';
import { dossierEnv, type Proc, startServerProcess, stopProcess, tempDir } from '../../support/processes.ts';
import { findTraces, marker } from '../../support/traces.ts';
import { waitFor } from '../../support/wait.ts';

/** Just what the privacy helpers use of a TestApp, for a server running in its own process. */
const asTestApp = (url: string, databaseUrl: string, dataDir: string) =>
  ({
    url,
    databaseUrl,
    dataDir,
    staff: (q: string, v?: Record<string, unknown>) =>
      postGraphQL(url, q, v, { authorization: `Bearer ${STAFF_TOKEN}` }),
  }) as unknown as TestApp;

describe('an erasure killed half-way', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let meili: MeiliStandin;
  const running: Proc[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await tempDir('dossier-erasure-crash-');
    meili = await startMeiliStandin();
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => stopProcess(p)));
    await meili.stop();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is finished by the next run after a SIGKILL, and leaves nothing', async () => {
    const env = dossierEnv(db.url, dataDir, {
      MEILI_URL: meili.url,
      NOTIFY_WAIT_SECONDS: '30',
      ERASURE_TIMEOUT_SECONDS: '5',
      JOB_MAINTENANCE_SECONDS: '1',
    });
    const first = await startServerProcess(env);
    running.push(first);
    let t = asTestApp(first.url, db.url, dataDir);
    const m = marker();
    const { contactId, documentId, sha256 } = await submitMarked(first.url, m);
    await processedAndNotified(t, contactId, documentId);

    // The search engine stops answering: the erasure gets past the rows and the objects, then waits on it.
    meili.setFailure('hang');
    const erasure = await eraseContact(t, contactId);
    await waitFor(
      async () =>
        (await query(db.url, 'select 1 from contacts where id = $1', [contactId])).length === 0 &&
        !existsSync(join(dataDir, 'objects', 'documents', contactId)),
      20_000,
      'the rows and objects to be gone',
    );
    await stopProcess(first, 'SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');
    const [row] = await query<{ status: string }>(db.url, 'select status from erasures where id = $1', [
      erasure.id,
    ]);
    expect(row!.status).toBe('PENDING');
    // Half-way indeed: the search entry and the outbox's emails are still there.
    meili.setFailure(null);
    const halfway = await findTraces(
      { databaseUrl: db.url, dirs: [dataDir], meili: { url: meili.url } },
      { text: [m] },
    );
    expect(halfway.some((f) => f.startsWith('meilisearch'))).toBe(true);
    expect((await readdir(join(dataDir, 'outbox'))).some((f) => f.includes(contactId))).toBe(true);

    const second = await startServerProcess(env);
    running.push(second);
    t = asTestApp(second.url, db.url, dataDir);
    await erasureDone(t, erasure.id, 45_000);
    const logs = [first.output(), second.output()];
    const traces = await findTraces(
      { databaseUrl: db.url, dirs: [dataDir], meili: { url: meili.url }, logs },
      { text: [m], sha256: [sha256], jobText: [contactId, documentId] },
    );
    expect(traces).toEqual([]);
  }, 120_000);
});
