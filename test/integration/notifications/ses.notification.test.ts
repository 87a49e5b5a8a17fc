import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../support/app.ts';
import { makePdf } from '../../support/extraction-fixtures.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import {
  type DatabaseControl,
  notificationSettled,
  permanentFailures,
  readContact,
  startNotificationApp,
  submitContact,
} from '../../support/notifications.ts';
import { type SesGate, startSesGate } from '../../support/ses-gate.ts';
import { type SesPeer, type StoredEmail, startSesPeer } from '../../support/ses-peer.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

const OWNER = 'owner@example.test';
const FROM = 'dossier@example.test';
const BRIEF =
  'Our company needs an audit of the payroll system. The payroll audit should cover taxes, ' +
  'pensions and the payroll reports of the last three years.';
const credentialVars = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const savedEnv = Object.fromEntries(credentialVars.map((k) => [k, process.env[k]]));

let peer: SesPeer;
let gate: SesGate;
let t: TestApp;
let db: DatabaseControl;
let stopApp: () => Promise<void>;

beforeAll(async () => {
  // The default AWS credential chain reads these first; the emulator accepts any signed request.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
  peer = await startSesPeer();
  gate = await startSesGate(peer.endpoint);
  ({
    t,
    db,
    stop: stopApp,
  } = await startNotificationApp({
    SES_REGION: 'us-east-1',
    SES_ENDPOINT: gate.endpoint,
    MAIL_FROM: FROM,
    MAIL_TO: OWNER,
    MAIL_ACKNOWLEDGE: 'true',
    NOTIFY_WAIT_SECONDS: '30',
    NOTIFY_RETRY_DELAY_SECONDS: '1',
    // One email at a time: a job's first failed send shows that it stops there.
    MAIL_CONCURRENCY: '1',
    // Two extraction workers: one may sit on a held-back document while the other goes on.
    WORKERS: '2',
  }));
});

afterAll(async () => {
  await stopApp?.();
  await gate?.stop();
  await peer?.stop();
  for (const k of credentialVars) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

// The emulator's store is per process: pick this contact's messages by id and address.
const ownerEmails = async (contactId: string) =>
  (await peer.emails()).filter(
    (e) => e.destination.to.includes(OWNER) && e.body.text?.includes(`Contact id: ${contactId}`),
  );
const emailsTo = async (address: string) =>
  (await peer.emails()).filter((e) => e.destination.to.includes(address));

const submit = (input: Record<string, unknown>) => submitContact(t, input);

async function onlyEmail(contactId: string): Promise<StoredEmail> {
  const emails = await ownerEmails(contactId);
  expect(emails).toHaveLength(1);
  return emails[0]!;
}

describe('contact notification over SES', () => {
  it('tells the owner about the contact and its documents, with insights once extraction finished', async () => {
    await db.holdSlow();
    const input = contactInput({
      name: 'Grace Hopper',
      company: 'Navy Labs',
      service: 'Compilers',
      message: 'First line\nSecond line',
    });
    const before = Date.now();
    const r = await multipart<{ submitContact: { contact: { id: string } } }>(
      t.url,
      SUBMIT_WITH_FILES,
      { input, attachments: [null, null] },
      [
        { path: 'variables.attachments.0', name: 'slow-brief.txt', content: BRIEF, type: 'text/plain' },
        {
          path: 'variables.attachments.1',
          name: 'deck.pdf',
          content: await makePdf([`Quarterly report. ${BRIEF}`]),
          type: 'application/pdf',
        },
      ],
    );
    expect(r.errors).toBeUndefined();
    const id = r.data!.submitContact.contact.id;

    // deck.pdf finishes while slow-brief.txt is held back: the email waits for both.
    await waitFor(async () => (await readContact(t, id)).documents.some((d) => d.status === 'COMPLETED'));
    const waiting = await readContact(t, id);
    expect(waiting.notification).toEqual({ status: 'PENDING', attempts: 0, lastError: null, sentAt: null });
    expect(await ownerEmails(id)).toEqual([]);
    await db.releaseSlow();

    const done = await notificationSettled(t, id, 'SENT');
    expect(done.notification.attempts).toBe(1);
    expect(done.notification.lastError).toBeNull();
    const sentAt = Date.parse(done.notification.sentAt!);
    expect(sentAt).toBeGreaterThanOrEqual(before);
    expect(sentAt).toBeLessThanOrEqual(Date.now());

    const email = await onlyEmail(id);
    expect(email.from).toBe(FROM);
    expect(email.destination).toEqual({ to: [OWNER], cc: [], bcc: [] });
    expect(email.replyTo).toEqual([input.email]);
    expect(email.subject).toBe('New contact: Grace Hopper (Navy Labs)');
    const text = email.body.text!;
    for (const line of [
      'Name: Grace Hopper',
      `Email: ${input.email}`,
      'Company: Navy Labs',
      'Service: Compilers',
      'Message:\nFirst line\nSecond line',
      'Documents (2):',
    ]) {
      expect(text).toContain(line);
    }
    expect(done.documents.map((d) => d.status)).toEqual(['COMPLETED', 'COMPLETED']);
    for (const doc of done.documents) {
      const i = doc.insights!;
      const line = text.split('\n').find((l) => l.startsWith(`- ${doc.filename} (${doc.contentType}, `));
      expect(line, doc.filename).toBeDefined();
      expect(line).toContain(`): ${i.wordCount} words`);
      if (i.pageCount !== null) expect(line).toContain(`, ${i.pageCount} pages`);
      expect(line).toContain(`, language ${i.language}`);
      expect(line).toContain(`keywords: ${i.keywords.slice(0, 10).join(', ')}`);
      expect(line).not.toContain('status');
      expect(email.body.html).toContain(`<li>${doc.filename} (${doc.contentType}, `);
    }
    expect(done.documents.find((d) => d.filename === 'slow-brief.txt')!.insights!.keywords).toContain(
      'payroll',
    );

    // MAIL_ACKNOWLEDGE=true: the submitter gets a thank-you that echoes nothing they typed.
    const [ack, ...more] = await waitFor(async () => {
      const e = await emailsTo(input.email);
      return e.length > 0 && e;
    });
    expect(more).toEqual([]);
    expect(ack!.subject).toBe('Thank you for contacting Dossier');
    expect(ack!.from).toBe(FROM);
    expect(ack!.replyTo).toEqual([OWNER]);
    expect(ack!.body.text).not.toContain('First line');
  });

  it('refuses line breaks in header fields and flattens other separators to one subject line', async () => {
    for (const bad of [
      { name: 'Eve\r\nBcc: evil@attacker.test' },
      { company: 'ACME\nBcc: evil@attacker.test' },
      { email: 'eve@example.test\r\nBcc: evil@attacker.test' },
    ]) {
      const r = await t.gql(SUBMIT, { input: contactInput(bad) });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const input = contactInput({
      name: 'Eve\u2028Bcc: evil@attacker.test',
      company: 'ACME\u2029Reply-To: evil@attacker.test\u202e',
      service: 'Cc: evil@attacker.test',
    });
    const id = await submit(input);
    await notificationSettled(t, id, 'SENT');
    const email = await onlyEmail(id);
    expect(email.subject).toBe(
      'New contact: Eve Bcc: evil@attacker.test (ACME Reply-To: evil@attacker.test)',
    );
    expect(email.destination).toEqual({ to: [OWNER], cc: [], bcc: [] });
    expect(email.replyTo).toEqual([input.email]);
    const recipients = (await peer.emails()).flatMap((e) => [
      ...e.destination.to,
      ...e.destination.cc,
      ...e.destination.bcc,
      ...e.replyTo,
    ]);
    expect(recipients).not.toContain('evil@attacker.test');
  });

  it('escapes everything the submitter typed in the HTML part', async () => {
    const input = contactInput({
      name: '<img src=x onerror=alert(1)>',
      company: `Tom & Jerry's "Cheese"`,
      message: '<script>alert("x")</script>\n<b>bold</b> & more',
    });
    const id = await submit(input);
    await notificationSettled(t, id, 'SENT');
    const { body, subject } = await onlyEmail(id);
    expect(subject).toBe(`New contact: <img src=x onerror=alert(1)> (Tom & Jerry's "Cheese")`);
    expect(body.html).not.toMatch(/<script|<img|<b>bold/);
    expect(body.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(body.html).toContain('Tom &amp; Jerry&#39;s &quot;Cheese&quot;');
    expect(body.html).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\n&lt;b&gt;bold&lt;/b&gt; &amp; more',
    );
    expect(body.text).toContain('Message:\n<script>alert("x")</script>\n<b>bold</b> & more');
  });

  it('retries while SES is unreachable and delivers exactly once when it is back', async () => {
    await gate.down();
    const input = contactInput({ name: 'Outage Tester' });
    const id = await submit(input);
    const failing = await waitFor(async () => {
      const { notification: n } = await readContact(t, id);
      return n.lastError !== null && n;
    });
    expect(failing.status).toBe('PENDING');
    expect(failing.attempts).toBeGreaterThanOrEqual(1);
    expect(failing.lastError).toContain('ECONNREFUSED');
    expect(failing.sentAt).toBeNull();
    expect(await ownerEmails(id)).toEqual([]);

    await gate.up();
    const done = await notificationSettled(t, id, 'SENT');
    expect(done.notification.attempts).toBeGreaterThan(1);
    expect(done.notification.attempts).toBeGreaterThanOrEqual(failing.attempts);
    expect(done.notification.lastError).toBeNull();
    await waitFor(async () => (await emailsTo(input.email)).length > 0);
    // A duplicate would come from a retry after the recorded success: give one the time to happen.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await ownerEmails(id)).toHaveLength(1);
    expect(await emailsTo(input.email)).toHaveLength(1);
  });

  it('gives each contact of one job its own outcome, and its retry sends nobody a second email', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => contactInput({ name: `Held Member ${i}` }));
    await gate.down();
    try {
      // While their inserts wait, at most 4 batches are in flight and the rest queue: on release the
      // queued ones are committed together, with one notification job.
      await db.holdContacts();
      const submitted = Promise.all(inputs.map(submit));
      await new Promise((r) => setTimeout(r, 500));
      await db.releaseContacts();
      const ids = await submitted;
      const { rows } = await db.query(
        `select array_agg(c.id) as ids from pgboss.job, jsonb_array_elements_text(data->'contactIds') as c(id)
          where name = 'contact-notify' and c.id::uuid = any($1::uuid[]) group by pgboss.job.id
          order by count(*) desc limit 1`,
        [ids],
      );
      const shared = (rows[0] as { ids: string[] }).ids;
      expect(shared.length).toBeGreaterThan(1);
      // SES is down: the job's first send fails (MAIL_CONCURRENCY=1 here), so it stops there: the rest
      // stay untouched until its retry (a second later at the earliest).
      const states = () => Promise.all(shared.map(async (id) => (await readContact(t, id)).notification));
      await waitFor(async () => (await states()).some((n) => n.lastError !== null));
      // Without the stop, the rest would fail too within milliseconds; the retry is a second away.
      await new Promise((r) => setTimeout(r, 300));
      const first = await states();
      expect(first.filter((n) => n.attempts === 1 && n.lastError?.includes('ECONNREFUSED'))).toHaveLength(1);
      expect(first.filter((n) => n.attempts === 0 && n.lastError === null)).toHaveLength(shared.length - 1);
      expect(first.every((n) => n.status === 'PENDING')).toBe(true);
      // The job failed for the queue to retry, and says why.
      const job = await db.query(
        `select output::text as output from pgboss.job where name = 'contact-notify' and data->'contactIds' ? $1`,
        [shared[0]],
      );
      expect((job.rows[0] as { output: string }).output).toMatch(/notifications to retry: .*ECONNREFUSED/);

      // Back, but refusing one of them for good: that one fails alone, the rest go out once each.
      const refused = shared[0]!;
      const accepted = ids.filter((id) => id !== refused);
      gate.rejectContaining(`X-Dossier-Contact-ID: ${refused}`);
      await gate.up();
      for (const id of accepted) await notificationSettled(t, id, 'SENT');
      const failed = await notificationSettled(t, refused, 'FAILED');
      expect(failed.notification.lastError).toContain('MessageRejected');
      // A duplicate would come from a retry after the recorded success: give one the time to happen.
      await new Promise((r) => setTimeout(r, 1_500));
      for (const id of accepted) expect(await ownerEmails(id)).toHaveLength(1);
      expect(await ownerEmails(refused)).toEqual([]);
      for (const [i, id] of ids.entries()) {
        expect(await emailsTo(inputs[i]!.email as string)).toHaveLength(id === refused ? 0 : 1);
      }
    } finally {
      await db.releaseContacts();
      gate.rejectContaining(null);
      await gate.up();
    }
  });

  it('rests after a failed send: submissions streaming in during an outage cost a few attempts, not one each', async () => {
    const ids: string[] = [];
    await gate.down();
    try {
      // Each submission wakes the notification worker; after a failure it rests half a second instead.
      const started = Date.now();
      for (let i = 0; i < 20; i++) {
        ids.push(await submit(contactInput({ name: `Outage Stream ${i}` })));
        await new Promise((r) => setTimeout(r, 100));
      }
      const { rows } = await db.query(
        'select coalesce(sum(notification_attempts), 0)::int as n from contacts where id = any($1::uuid[])',
        [ids],
      );
      const attempts = (rows[0] as { n: number }).n;
      expect(attempts).toBeGreaterThan(0);
      // About one attempt per rest while the stream lasts (longer on a loaded machine), never one each.
      const rests = Math.ceil((Date.now() - started) / 500);
      expect(attempts).toBeLessThanOrEqual(Math.min(rests + 3, ids.length - 1));
    } finally {
      await gate.up();
    }
    for (const id of ids) await notificationSettled(t, id, 'SENT');
  });

  it('fails every contact still pending when a job runs out of retries, saying whether it was tried', async () => {
    const failedBefore = await permanentFailures(t);
    let tried = '';
    await db.holdSlow();
    await gate.down();
    try {
      // One waits for its held document (never tried); the other is tried, and fails, while SES is down.
      const r = await multipart<{ submitContact: { contact: { id: string } } }>(
        t.url,
        SUBMIT_WITH_FILES,
        { input: contactInput({ name: 'Still Waiting' }), attachments: [null] },
        [{ path: 'variables.attachments.0', name: 'slow-notes.txt', content: BRIEF, type: 'text/plain' }],
      );
      const waiting = r.data!.submitContact.contact.id;
      tried = await submit(contactInput({ name: 'Tried Once' }));
      await waitFor(async () => (await readContact(t, tried)).notification.lastError !== null);
      // What pg-boss does when a job's retries run out: the same data, to the dead-letter queue.
      await db.query(`insert into pgboss.job (name, data) values ('contact-notify-failed', $1)`, [
        { contactIds: [waiting, tried] },
      ]);
      const a = await notificationSettled(t, tried, 'FAILED');
      expect(a.notification.lastError).toMatch(/^Retries exhausted: .*ECONNREFUSED/);
      const b = await notificationSettled(t, waiting, 'FAILED');
      expect(b.notification.attempts).toBe(0);
      expect(b.notification.lastError).toContain('Retries exhausted before this email was tried');
      expect(await permanentFailures(t)).toBe(failedBefore + 2);
    } finally {
      await db.releaseSlow();
      await gate.up();
    }
    expect(await ownerEmails(tried)).toEqual([]);
  });

  it('records a permanent rejection as FAILED, counts it and does not retry', async () => {
    const failedBefore = await permanentFailures(t);
    gate.rejectAll(true);
    try {
      const input = contactInput({ name: 'Rejected Sender' });
      const id = await submit(input);
      const { notification } = await notificationSettled(t, id, 'FAILED');
      expect(notification.attempts).toBe(1);
      expect(notification.sentAt).toBeNull();
      expect(notification.lastError).toContain('MessageRejected');
      expect(notification.lastError).toContain('Email address is not verified.');
      expect(await permanentFailures(t)).toBe(failedBefore + 1);
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await readContact(t, id)).notification.attempts).toBe(1);
      expect(await emailsTo(input.email)).toEqual([]);
    } finally {
      gate.rejectAll(false);
    }
  });
});
