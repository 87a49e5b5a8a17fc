import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphQL } from '../../support/app.ts';
import { documentFinished } from '../../support/documents.ts';
import { contactInput } from '../../support/factories.ts';
import { commandLine, descendantPids } from '../../support/proc.ts';
import { startServerProcess } from '../../support/processes.ts';
import { buildServer, startCommand } from '../../support/start-command.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

// `npm start` with nothing configured, as it runs: the build in dist/ under package.json's start command.
// Embedded PostgreSQL in DATA_DIR, migrations applied, a generated staff token, a document extracted by
// the built extraction process, clean shutdown.
describe('the default server', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dossier-embedded-'));
    await chmod(dataDir, 0o755);
    buildServer();
  }, 120_000);
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('starts on embedded PostgreSQL, prints GraphiQL and the token, stops on SIGTERM and keeps data across restarts', async () => {
    const start = startCommand();
    const env = {
      ...start.env,
      DATA_DIR: dataDir,
      PORT: '0',
      DATABASE_URL: '',
      ADMIN_TOKEN: '',
      NODE_ENV: 'development',
    };
    const first = await startServerProcess(env, start.args);
    // Printed after the "listening" log line that startServerProcess waits for, maybe in a later chunk.
    await waitFor(async () => first.output().includes('Staff token:'), 10_000, 'the token line');
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    expect(first.output()).toContain(`GraphiQL:    ${first.url}/graphql`);
    expect(first.output()).toContain(`Staff token: ${token}`);
    const input = contactInput();
    const sent = await multipart<{ submitContact: { contact: { id: string }; documents: { id: string }[] } }>(
      first.url,
      SUBMIT_WITH_FILES,
      { input, attachments: [null] },
      [{ path: 'variables.attachments.0', name: 'brief.txt', content: 'A brief about analytical engines.' }],
    );
    expect(sent.errors).toBeUndefined();
    const id = sent.data!.submitContact.contact.id;
    const document = await documentFinished(
      first.url,
      sent.data!.submitContact.documents[0]!.id,
      30_000,
      token,
    );
    expect(document).toMatchObject({ status: 'COMPLETED', insights: { wordCount: 5 } });
    // Read by the build's extraction process too: Node could run its .ts source, but would then keep its
    // type stripper resident in that process.
    const started = descendantPids(first.child.pid!).map(commandLine);
    expect(started.filter((c) => /extraction\.child\./.test(c))).toEqual([
      expect.stringContaining('dist/src/services/extraction/extraction.child.js'),
    ]);

    first.child.kill('SIGTERM');
    const code = await first.exited;
    if (code !== 0) console.error(first.output().slice(-4000));
    expect(code).toBe(0);
    expect(first.output()).toContain('shutting down');

    const second = await startServerProcess(env, start.args);
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
