import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUrlSigner } from '../../../src/services/shared/signed-url.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { makePdf } from '../../support/extraction-fixtures.ts';
import { contactInput } from '../../support/factories.ts';
import { asBearer, createToken, errorCode } from '../../support/identity.ts';
import { eraseContact, erasureDone, processedAndNotified, sha256 } from '../../support/privacy.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';
import { unzip } from '../../support/zip.ts';

const EXPORT = `mutation ($id: ID!) { exportContact(id: $id) }`;
const AUDIT = `{ auditEvents(action: "contact.export") { edges { node { actor subjectId details } } } }`;
// A name that would climb out of the folder and is longer than any entry name may be.
const HOSTILE = `..\\..\\${'x'.repeat(300)}.txt`;

interface Exported {
  contact: Record<string, unknown> & { notification: { status: string } };
  notes: { body: string; author: string; createdAt: string }[];
  documents: {
    id: string;
    sha256: string;
    size: number;
    contentType: string;
    status: string;
    insights: unknown;
    textLength: number;
    text: string;
    file: string;
  }[];
}

let t: TestApp;
let contactId: string;
let documents: { id: string; sha256: string }[];
let link: string;
const download = (url: string) => fetch(new URL(url, t.url));

beforeAll(async () => {
  t = await startTestApp({ NOTIFY_WAIT_SECONDS: '30' });
  const pdf = await makePdf(['Curriculum vitae: bridges, tunnels and a lighthouse.']);
  const r = await multipart<{
    submitContact: { contact: { id: string }; documents: { id: string; sha256: string }[] };
  }>(
    t.url,
    SUBMIT_WITH_FILES,
    { input: contactInput({ name: 'Grace Export', company: 'Navy' }), attachments: [null, null] },
    [
      { path: 'variables.attachments.0', name: 'cv.pdf', content: pdf, type: 'application/pdf' },
      { path: 'variables.attachments.1', name: HOSTILE, content: 'plain notes about the project' },
    ],
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  contactId = r.data.submitContact.contact.id;
  documents = r.data.submitContact.documents;
  for (const d of documents) await processedAndNotified(t, contactId, d.id);
  await t.staff(
    `mutation ($id: ID!) { updateContact(id: $id, input: { status: OPEN, tags: ["vip"] }) { id } }`,
    {
      id: contactId,
    },
  );
  await t.staff(`mutation ($id: ID!) { addContactNote(contactId: $id, body: "Asked for a copy") { id } }`, {
    id: contactId,
  });
}, 60_000);
afterAll(() => t?.stop());

describe('exportContact', () => {
  it('links to a zip of contact.json and the original files, each with its sha256; audited', async () => {
    const r = await t.staff<{ exportContact: string }>(EXPORT, { id: contactId });
    link = r.data!.exportContact;
    expect(link).toMatch(new RegExp(`^/exports/${contactId}\\?expires=\\d+&signature=`));
    const res = await download(link);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="contact-${contactId}.zip"`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const bytes = Buffer.from(await res.arrayBuffer());
    // Sized before the first byte was sent: the zip is streamed, never assembled first.
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);

    const entries = await unzip(bytes);
    const json = JSON.parse(entries.get('contact.json')!.toString('utf8')) as Exported;
    expect(json.contact).toMatchObject({
      id: contactId,
      name: 'Grace Export',
      company: 'Navy',
      status: 'OPEN',
      tags: ['vip'],
      notification: { status: 'SENT' },
    });
    expect(json.contact).toHaveProperty('email');
    expect(json.contact).toHaveProperty('message');
    expect(json.notes).toEqual([
      { id: expect.any(String), body: 'Asked for a copy', author: 'root', createdAt: expect.any(String) },
    ]);
    expect(json.documents.map((d) => d.id).sort()).toEqual(documents.map((d) => d.id).sort());
    for (const doc of json.documents) {
      expect(doc).toMatchObject({
        status: 'COMPLETED',
        sha256: documents.find((d) => d.id === doc.id)!.sha256,
      });
      expect(doc.insights).not.toBeNull();
      expect(doc.textLength).toBe(doc.text.length);
      expect(doc.textLength).toBeGreaterThan(0);
      const file = entries.get(doc.file)!;
      expect(sha256(file)).toBe(doc.sha256);
      expect(file.length).toBe(doc.size);
      expect(doc.file.startsWith(`files/${doc.id}-`)).toBe(true);
      expect(doc.file.length).toBeLessThanOrEqual(200);
      expect(doc.file.slice('files/'.length)).not.toMatch(/[/\\]/);
    }
    expect([...entries.keys()].sort()).toEqual(['contact.json', ...json.documents.map((d) => d.file)].sort());

    const audit = await t.staff<{
      auditEvents: { edges: { node: { actor: string; subjectId: string; details: string } }[] };
    }>(AUDIT);
    const events = audit.data!.auditEvents.edges.map((e) => e.node);
    expect(events).toEqual([{ actor: 'root', subjectId: contactId, details: expect.any(String) }]);
    expect(events[0]!.details).not.toMatch(/grace|navy|example|vip/i);
  });

  it('refuses a tampered or expired link with 403 and no bytes', async () => {
    const tampered: ((u: URL) => void)[] = [
      (u) => u.searchParams.set('signature', 'x'.repeat(43)),
      (u) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600)),
      (u) => {
        u.pathname = `/exports/${randomUUID()}`;
      },
      (u) => {
        u.pathname = `/files/${documents[0]!.id}`;
      },
    ];
    for (const change of tampered) {
      const url = new URL(link, t.url);
      change(url);
      const res = await fetch(url);
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await res.text()).not.toContain('PK');
    }
    const secret = (await readFile(join(t.dataDir, 'file-url-secret'), 'utf8')).trim();
    const past = createUrlSigner(secret, { now: () => Date.now() - 3_600_000 });
    const expired = await download(past.sign(`/exports/${contactId}`, {}, 300));
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('expired');
  });

  it('is FORBIDDEN without ADMIN, UNAUTHENTICATED without a token, NOT_FOUND for an unknown contact', async () => {
    const { token } = await createToken(t.url, ['READ', 'WRITE']);
    expect(errorCode(await asBearer(t.url, token, EXPORT, { id: contactId }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(EXPORT, { id: contactId }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.staff(EXPORT, { id: randomUUID() }))).toBe('NOT_FOUND');
    expect(errorCode(await t.staff(EXPORT, { id: 'not-an-id' }))).toBe('NOT_FOUND');
  });

  it('is NOT_FOUND once the contact is erased, and a link given before answers 404', async () => {
    await erasureDone(t, (await eraseContact(t, contactId)).id);
    expect(errorCode(await t.staff(EXPORT, { id: contactId }))).toBe('NOT_FOUND');
    const res = await download(link);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('PK');
  });
});
