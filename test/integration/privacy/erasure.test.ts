import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../../src/config.ts';
import { createLogger } from '../../../src/logger.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { contactInput } from '../../support/factories.ts';
import { asBearer, createToken, errorCode } from '../../support/identity.ts';
import { type MeiliStandin, startMeiliStandin } from '../../support/meili-standin.ts';
import { scrape, total } from '../../support/metrics.ts';
import { startNotificationApp, submitContact } from '../../support/notifications.ts';
import { eraseContact, erasureDone, processedAndNotified, submitMarked } from '../../support/privacy.ts';
import { type S3Peer, startS3Peer } from '../../support/s3-peer.ts';
import { findTraces, marker, type Stores } from '../../support/traces.ts';
import { waitFor } from '../../support/wait.ts';

const metric = async (t: TestApp, name: string, labels: Record<string, string>) =>
  total(await scrape(t.url), name, labels) ?? 0;

const CONTACT = `query ($id: ID!) { contact(id: $id) { id } }`;
const AUDIT_HASH_SECRET = 'audit-hash-secret-for-the-erasure-tests';
const AUDIT = `query ($id: ID) { auditEvents(action: "contact.erase", subjectId: $id) {
  edges { node { actor action subjectType subjectId requestId details } } } }`;
const SEARCH = `query ($q: String!) { searchDocuments(query: $q) { totalHits } }`;
const DOWNLOAD = `query ($id: ID!) { document(id: $id) { downloadUrl } }`;
const REPROCESS = `mutation ($id: ID!) { reprocessDocument(id: $id) { id } }`;

// One run per family of stores: disk + PostgreSQL search, and S3 (s3rver) + Meilisearch (the stand-in).
describe.each([
  { stores: 'disk, PostgreSQL search, outbox', remote: false },
  { stores: 's3rver, Meilisearch stand-in, outbox', remote: true },
])('erasure across every store: $stores', ({ remote }) => {
  let t: TestApp;
  let s3: S3Peer | null = null;
  let meili: MeiliStandin | null = null;
  const logs: string[] = [];
  let stores: Stores;

  beforeAll(async () => {
    if (remote) {
      s3 = await startS3Peer();
      meili = await startMeiliStandin();
    }
    const env: Env = {
      NOTIFY_WAIT_SECONDS: '30',
      MAIL_ACKNOWLEDGE: 'true',
      ...(s3 ? s3.env('dossier') : {}),
      ...(meili ? { MEILI_URL: meili.url } : {}),
    };
    t = await startTestApp(env, { log: createLogger('info', { write: (line: string) => logs.push(line) }) });
    stores = {
      databaseUrl: t.databaseUrl,
      dirs: [t.dataDir, ...(s3 ? [s3.directory] : [])],
      ...(meili ? { meili: { url: meili.url } } : {}),
      logs,
    };
  });
  afterAll(async () => {
    await t?.stop();
    await s3?.stop();
    await meili?.stop();
  });

  it('leaves no trace of a processed, indexed and notified contact anywhere', async () => {
    const m = marker();
    const { contactId, documentId, sha256 } = await submitMarked(t.url, m);
    await processedAndNotified(t, contactId, documentId);
    const needles = { text: [m], sha256: [sha256], jobText: [contactId, documentId] };
    const before = await findTraces(stores, needles);
    // The search can fail: before the erasure it finds the marker in each kind of store.
    for (const where of [
      'table public.contacts',
      'table public.documents',
      'table pgboss.job',
      remote ? 'meilisearch index' : 'table public.search_documents',
      remote ? '/dossier/documents' : '/objects/documents',
      '/outbox/',
    ]) {
      expect(
        before.some((f) => f.includes(where)),
        `${where} in ${before.join('\n')}`,
      ).toBe(true);
    }
    if (!remote) expect(before.some((f) => f.startsWith('table public.search_words'))).toBe(true);

    // A link handed out before the erasure (audited: the audit row must not carry the marker either).
    const link = (await t.staff<{ document: { downloadUrl: string } }>(DOWNLOAD, { id: documentId })).data!
      .document.downloadUrl;
    const download = () => fetch(new URL(link, t.url));
    expect((await download()).status).toBe(200);

    const requested = await eraseContact(t, contactId);
    expect(requested).toMatchObject({ status: 'PENDING', contactIds: [contactId], completedAt: null });
    const done = await erasureDone(t, requested.id);
    expect(done.completedAt).not.toBeNull();

    expect(await findTraces(stores, needles)).toEqual([]);
    expect((await t.staff(CONTACT, { id: contactId })).data).toEqual({ contact: null });
    expect((await t.staff(SEARCH, { q: m })).data).toEqual({ searchDocuments: { totalHits: 0 } });
    expect((await download()).status).toBe(404);
    expect(errorCode(await t.staff(REPROCESS, { id: documentId }))).toBe('NOT_FOUND');
    // Asked again: the same erasure, nothing new to do.
    expect((await eraseContact(t, contactId)).id).toBe(requested.id);
    expect(logs.some((l) => l.includes('"erasure done"'))).toBe(true);
  }, 60_000);
});

describe('erasure with work in flight, by email, and who may ask', () => {
  let app: Awaited<ReturnType<typeof startNotificationApp>>;
  let t: TestApp;
  beforeAll(async () => {
    app = await startNotificationApp({ NOTIFY_WAIT_SECONDS: '0', AUDIT_HASH_SECRET });
    t = app.t;
  });
  afterAll(() => app?.stop());

  it('erases a document while it is being extracted; the extraction then re-creates nothing', async () => {
    const m = marker();
    // Held as it is marked PROCESSING: its extraction job is in flight, holding the document.
    await app.db.holdSlow();
    const { contactId, documentId, sha256 } = await submitMarked(t.url, m, `slow-${m}.pdf`);
    await waitFor(
      async () =>
        (
          await query(
            t.databaseUrl,
            `select 1 from pg_locks where locktype = 'advisory' and not granted
            and database = (select oid from pg_database where datname = current_database())`,
          )
        ).length > 0,
      10_000,
      'the extraction to be held',
    );
    const erasure = await eraseContact(t, contactId);
    // Once the erasure waits for the document's row, let the extraction go on with the erasure right
    // behind it (released before the erasure job ran, the extraction could finish first under load).
    await waitFor(
      async () =>
        (
          await query(
            t.databaseUrl,
            `select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid
              where l.locktype = 'transactionid' and not l.granted and a.datname = current_database()`,
          )
        ).length > 0,
      10_000,
      'the erasure to wait for the document',
    );
    await app.db.releaseSlow();
    await erasureDone(t, erasure.id);
    const extracted = () =>
      metric(t, 'dossier_extraction_duration_seconds_count', { type: 'application/pdf' });
    await waitFor(async () => (await extracted()) === 1, 10_000, 'the extraction to end');
    await new Promise((r) => setTimeout(r, 500));
    expect(await metric(t, 'dossier_documents_processed_total', { status: 'COMPLETED' })).toBe(0);
    const stores = { databaseUrl: t.databaseUrl, dirs: [t.dataDir] };
    expect(
      await findTraces(stores, { text: [m], sha256: [sha256], jobText: [contactId, documentId] }),
    ).toEqual([]);
  }, 40_000);

  it('erases every contact with an address, whatever its case, and no other', async () => {
    const m = marker();
    const ids = [];
    for (const email of [`${m}@example.com`, `${m.toUpperCase()}@Example.com`, ` ${m}@EXAMPLE.COM `]) {
      ids.push(await submitContact(t, contactInput({ email, message: `From ${m}` })));
    }
    const other = await submitContact(t, contactInput({ message: `Not ${m} but a neighbour` }));
    const r = await t.staff<{ eraseContactsByEmail: { id: string; contactIds: string[] } }>(
      `mutation ($e: String!) { eraseContactsByEmail(email: $e) { id contactIds } }`,
      { e: `${m}@example.COM` },
    );
    expect([...r.data!.eraseContactsByEmail.contactIds].sort()).toEqual([...ids].sort());
    await erasureDone(t, r.data!.eraseContactsByEmail.id);
    // One audit event: the contact ids and a keyed hash of the address, never the address itself.
    const audit = await t.staff<{ auditEvents: { edges: { node: Record<string, unknown> }[] } }>(AUDIT, {
      id: r.data!.eraseContactsByEmail.id,
    });
    const events = audit.data!.auditEvents.edges.map((e) => ({
      ...e.node,
      details: JSON.parse(String(e.node.details)),
    }));
    expect(events).toEqual([
      {
        actor: 'root',
        action: 'contact.erase',
        subjectType: 'Erasure',
        subjectId: r.data!.eraseContactsByEmail.id,
        requestId: expect.any(String),
        details: {
          reason: 'request',
          contactIds: [...ids].sort(),
          emailHashes: [createHmac('sha256', AUDIT_HASH_SECRET).update(`${m}@example.com`).digest('hex')],
        },
      },
    ]);
    expect(JSON.stringify(events).toLowerCase()).not.toContain(m.toLowerCase());
    for (const id of ids) expect((await t.staff(CONTACT, { id })).data).toEqual({ contact: null });
    expect((await t.staff(CONTACT, { id: other })).data).toEqual({ contact: { id: other } });
    const traces = await findTraces({ databaseUrl: t.databaseUrl, dirs: [t.dataDir] }, { text: [`${m}@`] });
    expect(traces).toEqual([]);
    const none = await t.staff(`mutation { eraseContactsByEmail(email: "nobody-${m}@example.com") { id } }`);
    expect(none.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const bad = await t.staff(`mutation { eraseContactsByEmail(email: "not an address") { id } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  }, 30_000);

  it('needs a staff credential with ADMIN', async () => {
    const id = await submitContact(t, contactInput());
    const readWrite = await createToken(t.url, ['READ', 'WRITE']);
    for (const q of [
      `mutation { eraseContact(id: "${id}") { id } }`,
      `mutation { eraseContactsByEmail(email: "a@example.com") { id } }`,
      `query { erasure(id: "${id}") { id } }`,
    ]) {
      expect(errorCode(await t.gql(q))).toBe('UNAUTHENTICATED');
      expect(errorCode(await asBearer(t.url, readWrite.token, q))).toBe('FORBIDDEN');
    }
    expect((await t.staff(CONTACT, { id })).data).toEqual({ contact: { id } });
    const unknown = await t.staff(`mutation { eraseContact(id: "${randomUUID()}") { id } }`);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
