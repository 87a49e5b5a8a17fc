import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderContactNotification } from '../../../src/services/mail/contact-notification.ts';
import { MailError } from '../../../src/services/mail/mailer.ts';
import { createOutboxMailer } from '../../../src/services/mail/outbox.mailer.ts';
import { notificationInput } from '../../support/mail-fixtures.ts';

const fileName = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f-]+\.eml$/;

describe('outbox mailer', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dossier-outbox-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes one .eml that parses back to the same message', async () => {
    const dir = join(root, 'nested', 'outbox');
    const mailer = createOutboxMailer(dir);
    expect(mailer.kind).toBe('outbox');
    const before = Date.now();
    const sent = await mailer.send(renderContactNotification(notificationInput({ name: 'Zoë <b>' })));

    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(fileName);
    expect(files[0]).toContain(sent.messageId.slice(1, sent.messageId.indexOf('@')));

    const parsed = await simpleParser(await readFile(join(dir, files[0]!)));
    expect(parsed.messageId).toBe(sent.messageId);
    expect(parsed.subject).toBe('New contact: Zoë <b> (Analytical Engines)');
    expect(parsed.from?.value).toEqual([{ address: 'noreply@dossier.test', name: 'Dossier' }]);
    expect(parsed.to).toMatchObject({ value: [{ address: 'owner@dossier.test' }] });
    expect(parsed.replyTo?.value).toEqual([{ address: 'ada@example.com', name: '' }]);
    expect(parsed.headers.get('x-dossier-contact-id')).toBe('3f1c6a52-1b1e-4d8e-9d55-4f7f1b0c2a11');
    expect(parsed.text).toContain('Name: Zoë <b>');
    expect(parsed.text).toContain('- notes.txt (text/plain, 512 B): status PENDING');
    expect(parsed.html).toContain('<td>Zoë &lt;b&gt;</td>');
    expect(parsed.date!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(parsed.date!.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('writes concurrent sends to distinct files and leaves no temporary file', async () => {
    const mailer = createOutboxMailer(root);
    const sent = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        mailer.send(renderContactNotification(notificationInput({ name: `Sender ${i}` }))),
      ),
    );
    const files = (await readdir(root)).sort();
    expect(files).toHaveLength(8);
    expect(files.every((f) => fileName.test(f))).toBe(true);
    const parsed = await Promise.all(files.map(async (f) => simpleParser(await readFile(join(root, f)))));
    expect(new Set(parsed.map((p) => p.messageId))).toEqual(new Set(sent.map((s) => s.messageId)));
    expect(new Set(parsed.map((p) => p.subject)).size).toBe(8);
  });

  it('makes the folder again when it was removed between sends', async () => {
    const dir = join(root, 'outbox');
    const mailer = createOutboxMailer(dir);
    await mailer.send(renderContactNotification(notificationInput()));
    await rm(dir, { recursive: true });
    await mailer.send(renderContactNotification(notificationInput()));
    expect(await readdir(dir)).toHaveLength(1);
  });

  it('fails with a retryable MailError when the folder cannot be written, leaving nothing behind', async () => {
    const blocker = join(root, 'blocker');
    await writeFile(blocker, 'not a folder');
    const error = await createOutboxMailer(join(blocker, 'outbox'))
      .send(renderContactNotification(notificationInput()))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).retryable).toBe(true);
    expect((error as MailError).cause).toMatchObject({ code: 'ENOTDIR' });
    expect(await readdir(root)).toEqual(['blocker']);
  });

  it('rejects a malformed mail as permanent before touching the disk', async () => {
    const mail = { ...renderContactNotification(notificationInput()), headers: { Bcc: 'evil@x.test' } };
    const error = await createOutboxMailer(join(root, 'o'))
      .send(mail)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).retryable).toBe(false);
    expect(await readdir(root)).toEqual([]);
  });
});
