import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { startEmbeddedPostgres } from '../../../src/services/db/embedded-postgres.ts';
import { postGraphQL, STAFF_TOKEN } from '../../support/app.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import { type ServerProcess, startServerProcess, stopProcess, tempDir } from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

const postmasterPid = async (dataDir: string) =>
  Number(
    (await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0],
  );

describe('an embedded PostgreSQL killed with SIGKILL', () => {
  let dataDir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dataDir = await tempDir('dossier-postmaster-');
    server = await startServerProcess({
      DATA_DIR: dataDir,
      PORT: '0',
      DATABASE_URL: '',
      ADMIN_TOKEN: STAFF_TOKEN,
      NODE_ENV: 'test',
    });
  });
  afterAll(async () => {
    await stopProcess(server);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is restarted: /ready comes back by itself and acknowledged submissions are intact', async () => {
    const input = contactInput();
    const sent = await postGraphQL<{ submitContact: { contact: { id: string } } }>(server.url, SUBMIT, {
      input,
    });
    const id = sent.data!.submitContact.contact.id;
    const killed = await postmasterPid(dataDir);
    process.kill(killed, 'SIGKILL');

    const restarted = await waitFor(
      async () => {
        const pid = await postmasterPid(dataDir);
        const ready = await fetch(`${server.url}/ready`).catch(() => null);
        return pid && pid !== killed && ready?.status === 200 ? pid : null;
      },
      30_000,
      '/ready after the restart',
    );
    expect(restarted).not.toBe(killed);
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).toMatch(/the embedded PostgreSQL died; restarting it/);

    const read = await postGraphQL<{ contact: { email: string } }>(
      server.url,
      'query($id: ID!) { contact(id: $id) { email } }',
      { id },
      { authorization: `Bearer ${STAFF_TOKEN}` },
    );
    expect(read.data?.contact.email).toBe(input.email);
    const again = await postGraphQL(server.url, SUBMIT, { input: contactInput() });
    expect(again.errors).toBeUndefined();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  }, 60_000);

  it('is reported down meanwhile, and given up on when it cannot come back within its window', async () => {
    const dir = await tempDir('dossier-giveup-');
    let gaveUp: Error | null = null;
    const db = await startEmbeddedPostgres(dir, null, createLogger('silent'), {
      restartWindowMs: 2000,
      onGiveUp: (error) => {
        gaveUp = error;
      },
    });
    expect(db.up).toBe(true);
    const pid = await postmasterPid(dir);
    await rename(join(dir, 'postgres'), join(dir, 'moved')); // nothing left to restart
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => !db.up, 5000, 'the database to be reported down');
    const error = await waitFor(async () => gaveUp, 10_000, 'the supervisor to give up');
    expect(error.message).toMatch(/did not come back within 2 s/);
    expect(db.up).toBe(false);
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  });
});
