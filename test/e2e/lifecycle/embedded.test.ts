import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphQL } from '../../support/app.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import { startServerProcess } from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

// `npm start` with nothing configured: embedded PostgreSQL in DATA_DIR, a generated staff token, clean shutdown.
describe('the default server', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dossier-embedded-'));
    await chmod(dataDir, 0o755);
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('starts on embedded PostgreSQL, prints GraphiQL and the token, stops on SIGTERM and keeps data across restarts', async () => {
    const env = { DATA_DIR: dataDir, PORT: '0', DATABASE_URL: '', ADMIN_TOKEN: '', NODE_ENV: 'development' };
    const first = await startServerProcess(env);
    // Printed after the "listening" log line that startServerProcess waits for, maybe in a later chunk.
    await waitFor(async () => first.output().includes('Staff token:'), 10_000, 'the token line');
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    expect(first.output()).toContain(`GraphiQL:    ${first.url}/graphql`);
    expect(first.output()).toContain(`Staff token: ${token}`);
    const input = contactInput();
    const sent = await postGraphQL<{ submitContact: { contact: { id: string } } }>(first.url, SUBMIT, {
      input,
    });
    expect(sent.errors).toBeUndefined();
    const id = sent.data!.submitContact.contact.id;

    first.child.kill('SIGTERM');
    const code = await first.exited;
    if (code !== 0) console.error(first.output().slice(-4000));
    expect(code).toBe(0);
    expect(first.output()).toContain('shutting down');

    const second = await startServerProcess(env);
    expect(second.output()).not.toContain('orphaned');
    const read = await postGraphQL<{ contact: { email: string } }>(
      second.url,
      'query($id: ID!) { contact(id: $id) { email } }',
      { id },
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect(read.data?.contact.email).toBe(input.email);
    second.child.kill('SIGINT');
    const code2 = await second.exited;
    if (code2 !== 0) console.error(second.output().slice(-4000));
    expect(code2).toBe(0);
  }, 120_000);

  it('refuses to start with a bad configuration, naming every bad variable', async () => {
    const started = startServerProcess(
      { DATA_DIR: dataDir, PORT: 'abc', MAX_FILES: '0', DATABASE_URL: 'not a url' },
      'src/main.ts',
      20_000,
    );
    const error = await started.then(
      () => null,
      (err: Error) => err.message,
    );
    expect(error).toMatch(/Invalid configuration/);
    for (const name of ['PORT', 'MAX_FILES', 'DATABASE_URL']) expect(error).toContain(name);
  });
});
