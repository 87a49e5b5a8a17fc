import { createHash, randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDiskStore } from '../../../src/services/storage/disk.store.ts';
import { createS3Store } from '../../../src/services/storage/s3.store.ts';
import type { ObjectStore } from '../../../src/services/storage/storage.ts';
import { postGraphQL, STAFF_TOKEN, startTestApp } from '../../support/app.ts';
import { createTestDatabase } from '../../support/db.ts';
import { contactInput } from '../../support/factories.ts';
import { runScript, startServerProcess, stopProcess, tempDir } from '../../support/processes.ts';
import { startS3Peer } from '../../support/s3-peer.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

// The restore drill of the Operations issue: a live server with contacts and files, `npm run
// backup`, `npm run restore` into a fresh data dir (database and store), and everything back:
// every contact, every document's bytes (by SHA-256) and every search hit.
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
});

const staff = (url: string, query: string, variables: Record<string, unknown> = {}) =>
  postGraphQL<Record<string, unknown>>(url, query, variables, { authorization: `Bearer ${STAFF_TOKEN}` });
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

const CONTACT = /* GraphQL */ `
  query Contact($id: ID!) {
    contact(id: $id) { id name email company message documents { id filename sha256 size status } }
  }
`;
const SEARCH = /* GraphQL */ `
  query Find($q: String!) { searchDocuments(query: $q) { totalHits hits { document { id } } } }
`;

interface Seeded {
  word: string;
  contacts: { id: string; snapshot: unknown }[];
  files: Map<string, string>; // document id -> sha256 of the bytes sent
  hits: string[];
}

/** Two contacts with two and one files; waits until every document is extracted and indexed. */
async function seed(url: string): Promise<Seeded> {
  const word = `zephyrine${randomUUID().slice(0, 6)}`;
  const files = new Map<string, string>();
  const contacts: Seeded['contacts'] = [];
  for (const names of [['brief.txt', 'notes.md'], ['ledger.txt']]) {
    const attachments = names.map((name, i) => ({
      path: `variables.attachments.${i}`,
      name,
      content: `${name}: the ${word} engine review, part ${i}. ${randomUUID()}`,
    }));
    const r = await multipart<{ submitContact: { contact: { id: string }; documents: { id: string }[] } }>(
      url,
      SUBMIT_WITH_FILES,
      { input: contactInput(), attachments: names.map(() => null) },
      attachments,
    );
    expect(r.errors).toBeUndefined();
    for (const [i, d] of r.data!.submitContact.documents.entries())
      files.set(d.id, sha256(attachments[i].content));
    contacts.push({ id: r.data!.submitContact.contact.id, snapshot: null });
  }
  const hits = await waitFor(
    async () => {
      const r = await staff(url, SEARCH, { q: word });
      const found = (r.data?.searchDocuments as { totalHits: number; hits: { document: { id: string } }[] })
        ?.hits;
      return found?.length === files.size && found.map((h) => h.document.id).sort();
    },
    60_000,
    'every document to be searchable',
  );
  for (const c of contacts) c.snapshot = (await staff(url, CONTACT, { id: c.id })).data?.contact;
  return { word, contacts, files, hits };
}

/** Everything seeded is back on the restored server: contacts, documents, bytes and hits. */
async function expectRestored(url: string, seeded: Seeded, store: ObjectStore) {
  for (const c of seeded.contacts) {
    expect((await staff(url, CONTACT, { id: c.id })).data?.contact).toEqual(c.snapshot);
  }
  const stored = new Map<string, string>();
  for await (const key of store.list()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
    stored.set(key.split('/')[2], sha256(Buffer.concat(chunks)));
  }
  expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(seeded.files));
  const r = await staff(url, SEARCH, { q: seeded.word });
  const hits = (r.data!.searchDocuments as { hits: { document: { id: string } }[] }).hits;
  expect(hits.map((h) => h.document.id).sort()).toEqual(seeded.hits);
}

const baseEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  NODE_ENV: 'test',
  PORT: '0',
  DATA_DIR: dataDir,
  ADMIN_TOKEN: STAFF_TOKEN,
  // The servers print their URL at info; the scripts log at warn then.
  LOG_LEVEL: 'info',
  NOTIFY_WAIT_SECONDS: '0',
  RATE_LIMIT_PER_MINUTE: '1000',
  ...extra,
});

describe('backup and restore drill', () => {
  it('on the embedded default: a live server backed up, restored into a fresh data dir, all back', async () => {
    const [dataA, dataB, out] = [
      await tempDir('dossier-drill-a-'),
      await tempDir('dossier-drill-b-'),
      await tempDir('dossier-drill-out-'),
    ];
    cleanup.push(() => Promise.all([dataA, dataB, out].map((d) => rm(d, { recursive: true, force: true }))));
    const backupDir = join(out, 'backup');
    const a = await startServerProcess(baseEnv(dataA));
    cleanup.push(() => stopProcess(a));
    const seeded = await seed(a.url);

    const backup = await runScript('src/backup.ts', ['--out', backupDir], baseEnv(dataA));
    expect(backup.code, backup.out).toBe(0);
    expect(JSON.parse(backup.out.trim().split('\n').at(-1) ?? '')).toMatchObject({
      objects: 3,
      verified: true,
    });
    await stopProcess(a);

    const restore = await runScript('src/restore.ts', ['--from', backupDir], baseEnv(dataB));
    expect(restore.code, restore.out).toBe(0);
    // Once restored, the target holds data: a second restore is refused without --force.
    const again = await runScript('src/restore.ts', ['--from', backupDir], baseEnv(dataB));
    expect(again.code).toBe(1);
    expect(again.out).toContain('--force');

    const b = await startServerProcess(baseEnv(dataB));
    cleanup.push(() => stopProcess(b));
    await expectRestored(b.url, seeded, createDiskStore(join(dataB, 'objects')));
    await stopProcess(b);

    // A damaged backup is refused before the target is touched.
    const manifest = JSON.parse(await readFile(join(backupDir, 'manifest.json'), 'utf8')) as {
      objects: { path: string }[];
    };
    await writeFile(join(backupDir, manifest.objects[0].path), 'tampered');
    const damaged = await runScript('src/restore.ts', ['--from', backupDir, '--force'], baseEnv(dataB));
    expect(damaged.code).toBe(1);
    expect(damaged.out).toContain(`${manifest.objects[0].path}: checksum mismatch`);
  }, 240_000);

  it('on PostgreSQL and S3 (s3rver): restored into another database and bucket, all back', async () => {
    const s3 = await startS3Peer();
    cleanup.push(() => s3.stop());
    const [dbB, dataB, out] = [
      await createTestDatabase(),
      await tempDir('dossier-drill-b-'),
      await tempDir('dossier-drill-out-'),
    ];
    cleanup.push(
      () => dbB.drop(),
      () => rm(dataB, { recursive: true, force: true }),
      () => rm(out, { recursive: true, force: true }),
    );
    const a = await startTestApp({ ...s3.env('drill-a'), NOTIFY_WAIT_SECONDS: '0' });
    cleanup.push(() => a.stop());
    const seeded = await seed(a.url);
    const backupDir = join(out, 'backup');
    const backup = await runScript(
      'src/backup.ts',
      ['--out', backupDir],
      baseEnv(a.dataDir, { DATABASE_URL: a.databaseUrl, ...s3.env('drill-a') }),
    );
    expect(backup.code, backup.out).toBe(0);

    const envB = baseEnv(dataB, { DATABASE_URL: dbB.url, ...s3.env('drill-b') });
    const restore = await runScript('src/restore.ts', ['--from', backupDir], envB);
    expect(restore.code, restore.out).toBe(0);
    const b = await startTestApp(s3.env('drill-b'), { database: dbB.url, dataDir: dataB });
    cleanup.push(() => b.stop());
    await expectRestored(b.url, seeded, createS3Store({ ...s3, bucket: 'drill-b' }));
  }, 240_000);
});
