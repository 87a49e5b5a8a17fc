import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../../src/services/db/embedded-postgres.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import { waitFor } from '../../support/wait.ts';

// A database of its own, so the test can stop and start it under a running app.
describe('when the database goes away', () => {
  let dir: string;
  let port: number;
  let db: EmbeddedDatabase;
  let t: TestApp;
  const log = createLogger('silent');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dossier-outage-'));
    await chmod(dir, 0o755);
    port = await getPort();
    db = await startEmbeddedPostgres(dir, port, log);
    t = await startTestApp({}, { database: db.url });
  });
  afterAll(async () => {
    await t.stop();
    await db.stop();
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('answers SERVICE_UNAVAILABLE fast, /ready says which, and recovers by itself', async () => {
    expect((await fetch(`${t.url}/ready`)).status).toBe(200);
    await db.stop();

    const ready = await fetch(`${t.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, dependencies: { database: 'down' } });
    expect((await fetch(`${t.url}/health`)).status).toBe(200);

    const started = Date.now();
    const r = await t.gql(SUBMIT, { input: contactInput() });
    expect(r.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(r.errors?.[0]?.message).not.toMatch(/ECONNREFUSED|postgres/i);
    expect(Date.now() - started).toBeLessThan(5000);

    db = await startEmbeddedPostgres(dir, port, log);
    await waitFor(async () => (await fetch(`${t.url}/ready`)).status === 200, 20_000, 'ready again');
    const again = await waitFor(
      async () => {
        const res = await t.gql<{ submitContact: { contact: { id: string } } }>(SUBMIT, {
          input: contactInput(),
        });
        return res.data?.submitContact ? res : null;
      },
      20_000,
      'a submission to succeed',
    );
    expect(again.errors).toBeUndefined();
  }, 90_000);
});
