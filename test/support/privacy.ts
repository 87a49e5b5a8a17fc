import { createHash } from 'node:crypto';
import type { TestApp } from './app.ts';
import { query } from './db.ts';
import { makePdf } from './extraction-fixtures.ts';
import { contactInput } from './factories.ts';
import { multipart, SUBMIT_WITH_FILES } from './upload.ts';
import { waitFor } from './wait.ts';

export const ERASURE_FIELDS = 'id status contactIds requestedAt completedAt error';

export interface ErasureView {
  id: string;
  status: 'PENDING' | 'DONE' | 'FAILED';
  contactIds: string[];
  requestedAt: string;
  completedAt: string | null;
  error: string | null;
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A contact carrying `m` in its name, email, message, a PDF's text and that PDF's filename. */
export async function submitMarked(
  url: string,
  m: string,
  pdfName = `${m}-cv.pdf`,
  email = `${m}@example.com`,
) {
  const pdf = await makePdf([
    `Curriculum vitae of ${m}, structural engineer. References from ${m} on request.`,
  ]);
  const r = await multipart<{ submitContact: { contact: { id: string }; documents: { id: string }[] } }>(
    url,
    SUBMIT_WITH_FILES,
    {
      input: contactInput({ name: `Ada ${m}`, email, message: `Please call ${m} about the bridge.` }),
      attachments: [null],
    },
    [{ path: 'variables.attachments.0', name: pdfName, content: pdf, type: 'application/pdf' }],
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return {
    contactId: r.data.submitContact.contact.id,
    documentId: r.data.submitContact.documents[0]!.id,
    sha256: sha256(pdf),
  };
}

/** Waits until the contact's documents are COMPLETED, its notification SENT and its document indexed. */
export async function processedAndNotified(t: TestApp, contactId: string, documentId: string) {
  await waitFor(
    async () => {
      const rows = await query<{ n: number }>(
        t.databaseUrl,
        `select count(*)::int as n from contacts c join documents d on d.contact_id = c.id
          where c.id = $1 and c.notification_status = 'SENT' and d.status = 'COMPLETED'
            and not exists (select 1 from pgboss.job j where j.name = 'document-index'
                             and j.data->>'documentId' = $2 and j.state <> 'completed')
            and exists (select 1 from pgboss.job j where j.name = 'document-index' and j.data->>'documentId' = $2)`,
        [contactId, documentId],
      );
      return rows[0]!.n > 0;
    },
    30_000,
    'processed, indexed and notified',
  );
}

export async function eraseContact(t: TestApp, id: string): Promise<ErasureView> {
  const r = await t.staff<{ eraseContact: ErasureView }>(
    `mutation ($id: ID!) { eraseContact(id: $id) { ${ERASURE_FIELDS} } }`,
    { id },
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.eraseContact;
}

/** Polls `erasure(id)` until it is DONE (or FAILED, which fails the wait). */
export const erasureDone = (t: TestApp, id: string, timeoutMs = 20_000) =>
  waitFor(
    async () => {
      const r = await t.staff<{ erasure: ErasureView }>(
        `query ($id: ID!) { erasure(id: $id) { ${ERASURE_FIELDS} } }`,
        {
          id,
        },
      );
      const e = r.data?.erasure;
      if (e?.status === 'FAILED') throw new Error(`erasure failed: ${e.error}`);
      return e?.status === 'DONE' && e;
    },
    timeoutMs,
    'the erasure to be DONE',
  );
