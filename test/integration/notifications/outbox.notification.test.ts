import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IN_FLIGHT } from '../../../src/services/contacts/intake-writer.ts';
import type { TestApp } from '../../support/app.ts';
import { contactInput } from '../../support/factories.ts';
import {
  type DatabaseControl,
  notificationSettled,
  permanentFailures,
  readContact,
  startNotificationApp,
  submitContact,
} from '../../support/notifications.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
let db: DatabaseControl;
let stop: () => Promise<void>;

beforeAll(async () => {
  // No SES_REGION: the default mailer writes to DATA_DIR/outbox. A short wait for documents.
  ({ t, db, stop } = await startNotificationApp({ NOTIFY_WAIT_SECONDS: '5' }));
});
afterAll(() => stop?.());

const outbox = () => join(t.dataDir, 'outbox');

/** Every .eml in the outbox, parsed, with its file name. */
async function outboxMails(): Promise<{ file: string; mail: ParsedMail }[]> {
  const files = (await readdir(outbox()).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'));
  return Promise.all(
    files.map(async (file) => ({ file, mail: await simpleParser(await readFile(join(outbox(), file))) })),
  );
}
const mailsFor = async (contactId: string) =>
  (await outboxMails()).filter((m) => m.mail.headers.get('x-dossier-contact-id') === contactId);

const submit = (input: Record<string, unknown>) => submitContact(t, input);

async function submitWithSlowDocument(input: Record<string, unknown>): Promise<string> {
  const r = await multipart<{ submitContact: { contact: { id: string } } }>(
    t.url,
    SUBMIT_WITH_FILES,
    { input, attachments: [null] },
    [{ path: 'variables.attachments.0', name: 'slow-notes.txt', content: 'Some notes about the plans.' }],
  );
  expect(r.errors).toBeUndefined();
  return r.data!.submitContact.contact.id;
}

describe('contact notification to the outbox', () => {
  it('writes a parseable .eml that lists a document still in processing by its status', async () => {
    await db.holdSlow();
    const input = contactInput({ name: 'Ada <Lovelace>', company: 'Engines & Co' });
    const id = await submitWithSlowDocument(input);

    // Extraction is held past NOTIFY_WAIT_SECONDS: the email goes without insights.
    const { notification, documents } = await notificationSettled(t, id, 'SENT');
    expect(notification).toMatchObject({ attempts: 1, lastError: null });
    expect(Date.parse(notification.sentAt!)).toBeLessThanOrEqual(Date.now());
    const [one, ...more] = await mailsFor(id);
    expect(more).toEqual([]);
    const { file, mail } = one!;
    expect(documents).toHaveLength(1);
    const doc = documents[0]!;
    expect(doc.status).toBe('PENDING');

    expect(mail.from?.value).toEqual([{ address: 'dossier@localhost.localdomain', name: '' }]);
    expect(mail.to).toMatchObject({ value: [{ address: 'owner@localhost.localdomain' }] });
    expect(mail.replyTo?.value).toEqual([{ address: input.email, name: '' }]);
    expect(mail.subject).toBe('New contact: Ada <Lovelace> (Engines & Co)');
    expect(mail.cc).toBeUndefined();
    expect(mail.bcc).toBeUndefined();
    expect(mail.messageId).toMatch(/^<.+@.+>$/);
    expect(mail.text).toContain('Name: Ada <Lovelace>');
    expect(mail.text).toContain(`Message:\n${input.message}`);
    expect(mail.text).toContain(
      `Documents (1):\n- slow-notes.txt (text/plain, ${doc.size} B): status PENDING`,
    );
    expect(mail.html).toContain('<td>Ada &lt;Lovelace&gt;</td>');
    expect(mail.html).toContain(`<li>slow-notes.txt (text/plain, ${doc.size} B): status PENDING</li>`);

    await db.releaseSlow();
    await waitFor(async () => (await readContact(t, id)).documents[0]!.status === 'COMPLETED');
    // Sent once, and no thank-you: MAIL_ACKNOWLEDGE is off by default.
    expect((await outboxMails()).filter((m) => m.mail.subject?.startsWith('Thank you'))).toEqual([]);
    expect((await mailsFor(id)).map((m) => m.file)).toEqual([file]);
  });

  it('sends the contacts of one job at once while one of them waits for its document', async () => {
    await db.holdSlow();
    await db.holdContacts();
    try {
      // Every intake transaction in flight waits on the hold, one submission each...
      const fillers: Promise<string>[] = [];
      for (let i = 1; i <= MAX_IN_FLIGHT; i++) {
        fillers.push(submit(contactInput({ name: `Held Filler ${i}` })));
        await waitFor(async () => (await db.heldContactInserts()) === i);
      }
      // ...so these queue, and are committed together once it is lifted: one notification job.
      const waiterId = submitWithSlowDocument(contactInput({ name: 'Held Waiter' }));
      const quickIds = Promise.all([1, 2, 3].map((i) => submit(contactInput({ name: `Held Quick ${i}` }))));
      await new Promise((r) => setTimeout(r, 500));
      await db.releaseContacts();
      const [waiter, quick] = [await waiterId, await quickIds];
      await Promise.all(fillers);
      const { rows } = await db.query(
        `select data->'contactIds' as ids from pgboss.job where name = 'contact-notify' and data->'contactIds' ? $1`,
        [waiter],
      );
      expect(rows).toHaveLength(1);
      expect([...(rows[0] as { ids: string[] }).ids].sort()).toEqual([waiter, ...quick].sort());

      for (const id of quick) await notificationSettled(t, id, 'SENT');
      for (const id of quick) expect(await mailsFor(id)).toHaveLength(1);
      expect((await readContact(t, waiter)).notification.status).toBe('PENDING');
      expect(await mailsFor(waiter)).toEqual([]);
    } finally {
      await db.releaseContacts();
      await db.releaseSlow();
    }
  });

  it('never sends again after a run stopped between sending and recording: it marks FAILED', async () => {
    const failedBefore = await permanentFailures(t);
    await db.holdSlow();
    try {
      const id = await submitWithSlowDocument(contactInput({ name: 'Crash Survivor' }));
      // What a process killed mid-send leaves behind: its claim (attempt 1), no outcome.
      await db.query(
        `update contacts set notification_attempts = 1,
           notification_message_id = 'sending:2000-01-01T00:00:00.000Z' where id = $1`,
        [id],
      );
      const { notification } = await notificationSettled(t, id, 'FAILED');
      expect(notification.attempts).toBe(1);
      expect(notification.sentAt).toBeNull();
      expect(notification.lastError).toContain('stopped while sending');
      expect(notification.lastError).toContain('may have been delivered');
      expect(await permanentFailures(t)).toBe(failedBefore + 1);
      expect(await mailsFor(id)).toEqual([]);
    } finally {
      await db.releaseSlow();
    }
  });

  it('shows the notification state to staff only', async () => {
    const query = /* GraphQL */ `
      mutation Submit($input: ContactInput!) {
        submitContact(input: $input) { contact { id notification { status } } }
      }
    `;
    const r = await t.gql<{ submitContact: { contact: { id: string; notification: unknown } } }>(query, {
      input: contactInput(),
    });
    expect(r.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['submitContact', 'contact', 'notification'], 'UNAUTHENTICATED'],
    ]);
    expect(r.data!.submitContact.contact.notification).toBeNull();
    const { notification } = await notificationSettled(t, r.data!.submitContact.contact.id, 'SENT');
    expect(notification.attempts).toBe(1);
  });
});
