import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUrlSigner } from '../../../src/services/shared/signed-url.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { type S3Peer, startS3Peer } from '../../support/s3-peer.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

const CONTENT = `Résumé of Jürgen: ${'engines and looms '.repeat(200)}`;
const FILENAME = 'Lebenslauf Jürgen final.txt';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const FILE = /* GraphQL */ `
  query($id: ID!) {
    document(id: $id) { sha256 status text indexedAt attachment: downloadUrl inline: downloadUrl(inline: true) }
  }
`;
interface FileFields {
  sha256: string;
  status: string;
  text: string | null;
  indexedAt: string | null;
  attachment: string;
  inline: string;
}

async function uploadTo(t: TestApp): Promise<string> {
  const r = await multipart<{ uploadDocument: { id: string } }>(
    t.url,
    UPLOAD,
    { file: null },
    [{ path: 'variables.file', name: FILENAME, content: CONTENT }],
    { staff: true },
  );
  expect(r.errors).toBeUndefined();
  return r.data!.uploadDocument.id;
}

const fileOf = async (t: TestApp, id: string) => {
  const r = await t.staff<{ document: FileFields }>(FILE, { id });
  expect(r.errors).toBeUndefined();
  return r.data!.document;
};

describe('downloads from the disk store', () => {
  let t: TestApp;
  let id = '';
  let doc: FileFields;
  beforeAll(async () => {
    t = await startTestApp();
    id = await uploadTo(t);
    doc = await waitFor(
      async () => {
        const d = await fileOf(t, id);
        return d.status === 'COMPLETED' && d.indexedAt ? d : null;
      },
      20_000,
      'the document to be extracted and indexed',
    );
  });
  afterAll(() => t.stop());

  const get = (url: string, headers: Record<string, string> = {}) => fetch(new URL(url, t.url), { headers });

  it('serves exactly the uploaded bytes as an attachment, sandboxed, with an RFC 6266 filename', async () => {
    expect(doc.attachment).toMatch(
      new RegExp(`^/files/${id}\\?disposition=attachment&expires=\\d+&signature=`),
    );
    const res = await get(doc.attachment);
    expect(res.status).toBe(200);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(sha256(body)).toBe(doc.sha256);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe('sandbox');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="Lebenslauf Jurgen final.txt"; filename*=UTF-8''Lebenslauf%20J%C3%BCrgen%20final.txt`,
    );
  });

  it('serves it inline on request', async () => {
    const res = await get(doc.inline);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^inline; filename=/);
    await res.arrayBuffer();
  });

  it('honours a byte range', async () => {
    const res = await get(doc.attachment, { range: 'bytes=10-29' });
    expect(res.status).toBe(206);
    const whole = Buffer.from(CONTENT);
    expect(res.headers.get('content-range')).toBe(`bytes 10-29/${whole.length}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(whole.subarray(10, 30));
    const beyond = await get(doc.attachment, { range: `bytes=${whole.length + 5}-` });
    expect(beyond.status).toBe(416);
  });

  it('refuses a tampered or expired link with 403 and no bytes', async () => {
    const tampered: ((u: URL) => void)[] = [
      (u) => u.searchParams.set('signature', 'x'.repeat(43)),
      (u) => u.searchParams.set('disposition', 'inline'),
      (u) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600)),
      (u) => {
        u.pathname = `/files/${randomUUID()}`;
      },
    ];
    for (const change of tampered) {
      const url = new URL(doc.attachment, t.url);
      change(url);
      const res = await fetch(url);
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('engines');
    }
    const secret = (await readFile(join(t.dataDir, 'file-url-secret'), 'utf8')).trim();
    const past = createUrlSigner(secret, { now: () => Date.now() - 3_600_000 });
    const expired = await get(past.sign(`/files/${id}`, { disposition: 'attachment' }, 300));
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('expired');
    const missing = await get(
      createUrlSigner(secret).sign(`/files/${randomUUID()}`, { disposition: 'inline' }, 300),
    );
    expect(missing.status).toBe(404);
  });

  it('gives staff the extracted text', async () => {
    expect(doc.text?.replace(/\s+/g, ' ').trim()).toBe(CONTENT.trim());
  });
});

describe('downloads from S3', () => {
  let s3: S3Peer;
  let t: TestApp;
  beforeAll(async () => {
    s3 = await startS3Peer();
    t = await startTestApp({ ...s3.env('dossier-downloads'), WORKERS: '0' });
  });
  afterAll(async () => {
    await t.stop();
    await s3.stop();
  });

  it('is a presigned GET of exactly the uploaded bytes, with its disposition; no text before extraction', async () => {
    const id = await uploadTo(t);
    const doc = await fileOf(t, id);
    expect(doc).toMatchObject({ status: 'PENDING', text: null, indexedAt: null });
    expect(doc.attachment.startsWith(`${s3.endpoint}/dossier-downloads/documents/unassigned/${id}/`)).toBe(
      true,
    );
    expect(new URL(doc.attachment).searchParams.get('X-Amz-Expires')).toBe('300');
    const res = await fetch(doc.attachment);
    expect(res.status).toBe(200);
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(doc.sha256);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename=/);
    const inline = await fetch(doc.inline);
    expect(inline.headers.get('content-disposition')).toMatch(/^inline; filename=/);
    await inline.arrayBuffer();
  });
});
