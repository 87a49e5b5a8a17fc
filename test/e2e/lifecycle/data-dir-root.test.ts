import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactInput } from '../../support/factories.ts';
import { startServerProcess, stopProcess } from '../../support/processes.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** Every file and folder below `dir`, with its permission bits. */
async function modesBelow(dir: string): Promise<{ path: string; dir: boolean; mode: number }[]> {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(e.parentPath, e.name);
    out.push({ path, dir: e.isDirectory(), mode: await mode(path) });
  }
  return out;
}

// As root, PostgreSQL runs as the postgres user, who cannot pass through a 0700 directory.
describe.skipIf(process.getuid?.() !== 0)('as root, with a DATA_DIR the postgres user cannot reach', () => {
  let base: string;
  let aside: string | undefined;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'dossier-root-')); // 0700, like a checkout under /root
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
    if (aside) await rm(aside, { recursive: true, force: true });
  });

  it('starts, keeps uploads, mail and secrets private, and prints the token only when it is made', async () => {
    const dataDir = join(base, 'data');
    const privateTmp = join(base, 'tmp');
    await mkdir(privateTmp, { mode: 0o700 });
    const env = {
      DATA_DIR: dataDir,
      TMPDIR: privateTmp,
      PORT: '0',
      DATABASE_URL: '',
      ADMIN_TOKEN: '',
      NODE_ENV: 'development',
      NOTIFY_WAIT_SECONDS: '0',
    };
    const first = await startServerProcess(env);
    await waitFor(async () => first.output().includes('Staff token:'), 5000, 'the token line');
    aside = /"postgresDir":"([^"]+)\/postgres"/.exec(first.output())?.[1];
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    expect(first.output()).toContain(`Staff token: ${token}`);

    const sent = await multipart(
      first.url,
      SUBMIT_WITH_FILES,
      { input: contactInput(), attachments: [null] },
      [{ path: 'variables.attachments.0', name: 'brief.txt', content: 'A private brief.' }],
    );
    expect(sent.errors).toBeUndefined();
    const outbox = join(dataDir, 'outbox');
    await waitFor(
      async () => (await readdir(outbox).catch(() => [])).some((f) => f.endsWith('.eml')),
      20_000,
    );
    await stopProcess(first);

    expect(await mode(join(dataDir, 'admin-token'))).toBe(0o600);
    expect(await mode(join(dataDir, 'postgres.secret'))).toBe(0o600);
    const stored = [...(await modesBelow(join(dataDir, 'objects'))), ...(await modesBelow(outbox))];
    expect(stored.some((e) => !e.dir && e.path.endsWith('.eml'))).toBe(true);
    expect(stored.filter((e) => !e.dir).length).toBeGreaterThanOrEqual(2);
    for (const e of stored)
      expect({ path: e.path, mode: e.mode }).toEqual({ path: e.path, mode: e.dir ? 0o700 : 0o600 });

    const second = await startServerProcess(env);
    // Printed just after the listening line that startServerProcess waits for.
    await waitFor(async () => second.output().includes('Staff token:'), 5000, 'the token line');
    expect(second.output()).not.toContain(token);
    expect(second.output()).toContain(`Staff token: in ${dataDir}/admin-token`);
    await stopProcess(second);
  }, 120_000);
});
