import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { makeDocx, makePdf, pseudoRandomBytes } from '../../support/extraction-fixtures.ts';
import { contactInput } from '../../support/factories.ts';
import { multipart, SUBMIT_WITH_FILES, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ MAX_FILES: '3', MAX_UPLOAD_BYTES: String(1024 * 1024) });
});
afterAll(() => t.stop());

interface Doc {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  status: string;
  error: string | null;
  insights: {
    wordCount: number;
    pageCount: number | null;
    language: string | null;
    keywords: string[];
    needsOcr: boolean;
  } | null;
}

const DOC = `query($id: ID!) { document(id: $id) { id filename contentType size sha256 status error processedAt insights { wordCount pageCount language keywords needsOcr } } }`;

const finished = (id: string) =>
  waitFor(
    async () => {
      const r = await t.staff<{ document: Doc }>(DOC, { id });
      const d = r.data?.document;
      return d && (d.status === 'COMPLETED' || d.status === 'FAILED') ? d : null;
    },
    30_000,
    `document ${id} to finish`,
  );

const sql = <T>(text: string, params: unknown[] = []) => query<T>(t.databaseUrl, text, params);

async function storedObjects(): Promise<string[]> {
  const root = join(t.dataDir, 'objects', 'documents');
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else out.push(join(dir, e.name));
    }
  };
  await walk(root);
  return out;
}

const english =
  'Zanzibar spice plantations export cloves and nutmeg. The plantation cooperative asked for an audit of the spice export ledgers, the warehouse inventory and the shipping contracts.';

describe('submitContact with attachments', () => {
  it('stores one attachment, hashed and typed by its bytes, and extracts it in the background', async () => {
    const content = `${english}\n`;
    const r = await multipart<{ submitContact: { contact: { id: string }; documents: Doc[] } }>(
      t.url,
      SUBMIT_WITH_FILES,
      { input: contactInput(), attachments: [null] },
      [{ path: 'variables.attachments.0', name: '../../etc/notes.txt', content, type: 'application/pdf' }],
    );
    expect(r.errors).toBeUndefined();
    const [doc] = r.data!.submitContact.documents;
    expect(doc).toMatchObject({
      filename: 'notes.txt',
      contentType: 'text/plain',
      size: Buffer.byteLength(content),
      sha256: createHash('sha256').update(content).digest('hex'),
      status: 'PENDING',
    });
    const done = await finished(doc!.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.insights).toMatchObject({ wordCount: 26, pageCount: null, language: 'en', needsOcr: false });
    expect(done.insights!.keywords).toContain('spice');
    expect(done.insights!.keywords).not.toContain('the');
    const [row] = await sql<{ storage_key: string }>('select storage_key from documents where id = $1', [
      doc!.id,
    ]);
    expect(row!.storage_key).toBe(`documents/${r.data!.submitContact.contact.id}/${doc!.id}/notes.txt`);
  });

  it('extracts PDF, Markdown and DOCX attachments of one contact', async () => {
    const pdf = await makePdf(['First page about Zanzibar cloves.', 'Second page about nutmeg exports.']);
    const docx = await makeDocx(['Quarterly report on spice exports from Zanzibar.']);
    const md = '# Audit plan\n\nReview the **ledgers** and the [contracts](https://example.com).\n';
    const r = await multipart<{ submitContact: { documents: Doc[] } }>(
      t.url,
      SUBMIT_WITH_FILES,
      { input: contactInput(), attachments: [null, null, null] },
      [
        { path: 'variables.attachments.0', name: 'report.pdf', content: pdf },
        { path: 'variables.attachments.1', name: 'plan.md', content: md },
        { path: 'variables.attachments.2', name: 'q3.docx', content: docx },
      ],
    );
    expect(r.errors).toBeUndefined();
    const docs = r.data!.submitContact.documents;
    expect(docs.map((d) => d.contentType)).toEqual([
      'application/pdf',
      'text/markdown',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ]);
    const [p, m, d] = await Promise.all(docs.map((x) => finished(x.id)));
    expect(p).toMatchObject({ status: 'COMPLETED', insights: { pageCount: 2 } });
    expect(p!.insights!.keywords).toEqual(expect.arrayContaining(['zanzibar', 'nutmeg']));
    expect(m).toMatchObject({ status: 'COMPLETED' });
    expect(m!.insights!.keywords).toEqual(expect.arrayContaining(['ledgers', 'contracts']));
    expect(d).toMatchObject({ status: 'COMPLETED' });
    expect(d!.insights!.keywords).toEqual(expect.arrayContaining(['quarterly', 'zanzibar']));
  });

  it('marks truncated and random-byte PDFs FAILED with a reason', async () => {
    const pdf = await makePdf(['Some text that will be cut off.']);
    const random = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(pseudoRandomBytes(20_000))]);
    const r = await multipart<{ submitContact: { documents: Doc[] } }>(
      t.url,
      SUBMIT_WITH_FILES,
      { input: contactInput(), attachments: [null, null] },
      [
        {
          path: 'variables.attachments.0',
          name: 'cut.pdf',
          content: pdf.subarray(0, Math.floor(pdf.length / 2)),
        },
        { path: 'variables.attachments.1', name: 'noise.pdf', content: random },
      ],
    );
    expect(r.errors).toBeUndefined();
    for (const d of r.data!.submitContact.documents) {
      const done = await finished(d.id);
      expect(done.status).toBe('FAILED');
      expect(done.error).toMatch(/\S{5,}/);
      expect(done.insights).toBeNull();
    }
  });
});

describe('refusals leave nothing behind', () => {
  const refused = async (files: { name: string; content: Uint8Array | string }[]) => {
    const before = {
      contacts: (await sql<{ n: number }>('select count(*)::int n from contacts'))[0]!.n,
      objects: (await storedObjects()).length,
    };
    const r = await multipart(
      t.url,
      SUBMIT_WITH_FILES,
      { input: contactInput(), attachments: files.map(() => null) },
      files.map((f, i) => ({ path: `variables.attachments.${i}`, ...f })),
    );
    expect((await sql<{ n: number }>('select count(*)::int n from contacts'))[0]!.n).toBe(before.contacts);
    expect((await storedObjects()).length).toBe(before.objects);
    return r;
  };

  it('refuses a spoofed type (GIF bytes named .pdf) with UNSUPPORTED_MEDIA_TYPE', async () => {
    // A 1x1 GIF: images other than PNG, JPEG and TIFF are not read by OCR.
    const gif = Buffer.from(
      '47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b',
      'hex',
    );
    const r = await refused([
      { name: 'ok.txt', content: 'fine text' },
      { name: 'photo.pdf', content: gif },
    ]);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses an executable with UNSUPPORTED_MEDIA_TYPE', async () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(200)]);
    const r = await refused([{ name: 'run.txt', content: elf }]);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a file over MAX_UPLOAD_BYTES with PAYLOAD_TOO_LARGE', async () => {
    const r = await refused([
      { name: 'ok.txt', content: 'fine' },
      { name: 'big.txt', content: 'a'.repeat(1024 * 1024 + 1) },
    ]);
    expect(r.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses more than MAX_FILES with BAD_USER_INPUT', async () => {
    const r = await refused(
      Array.from({ length: 4 }, (_, i) => ({ name: `${i}.txt`, content: `file ${i}` })),
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('uploadDocument', () => {
  it('stores a staff upload for a contact with its document type', async () => {
    const sub = await t.gql<{ submitContact: { contact: { id: string } } }>(
      'mutation($input: ContactInput!) { submitContact(input: $input) { contact { id } } }',
      { input: contactInput() },
    );
    const contactId = sub.data!.submitContact.contact.id;
    const r = await multipart<{ uploadDocument: Doc & { documentType: string; contact: { id: string } } }>(
      t.url,
      UPLOAD,
      { file: null, contactId, documentType: 'brief' },
      [{ path: 'variables.file', name: 'brief.md', content: '# Brief\n\nShip the spice ledger audit.' }],
      { staff: true },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.uploadDocument).toMatchObject({
      filename: 'brief.md',
      contentType: 'text/markdown',
      documentType: 'brief',
      contact: { id: contactId },
    });
    expect((await finished(r.data!.uploadDocument.id)).status).toBe('COMPLETED');
  });

  it('stores an upload without a contact under unassigned', async () => {
    const r = await multipart<{ uploadDocument: Doc }>(
      t.url,
      UPLOAD,
      { file: null },
      [{ path: 'variables.file', name: 'loose.txt', content: 'loose notes' }],
      {
        staff: true,
      },
    );
    expect(r.errors).toBeUndefined();
    const [row] = await sql<{ storage_key: string }>('select storage_key from documents where id = $1', [
      r.data!.uploadDocument.id,
    ]);
    expect(row!.storage_key).toMatch(/^documents\/unassigned\/[0-9a-f-]{36}\/loose\.txt$/);
  });

  it('answers NOT_FOUND for an unknown contact and stores nothing', async () => {
    const before = (await storedObjects()).length;
    const r = await multipart(
      t.url,
      UPLOAD,
      { file: null, contactId: '00000000-0000-4000-8000-000000000000' },
      [{ path: 'variables.file', name: 'x.txt', content: 'x' }],
      { staff: true },
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await storedObjects()).length).toBe(before);
  });
});
