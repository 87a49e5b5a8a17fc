import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isUuid } from '../shared/uuid.ts';
import { CONTACT_HEADER, MailError, type Mailer } from './mailer.ts';
import { buildMime } from './mime.ts';

// 2025-01-31T09-15-00-123Z: sortable by name and safe on every file system.
const stamp = (date: Date) => date.toISOString().replace(/[:.]/g, '-');

/**
 * A Mailer for development and tests: each message becomes `dir/<timestamp>-<contact id>-<id>.eml`
 * (the contact part only for a mail about one contact, so that erasure finds it), written to a
 * temporary name, flushed and renamed, so a reader never sees a partial file. I/O failures are retryable.
 */
export function createOutboxMailer(dir: string): Mailer {
  // Made on the first send, and again when it was removed meanwhile: a mkdir per message was about 3% of
  // the CPU of a submission (each one sends a notification).
  let made: Promise<unknown> | null = null;
  // Mail holds personal data: only the server's user reads it.
  const makeDir = () =>
    (made ??= mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      made = null;
      throw err;
    }));
  const create = async (temp: string) => {
    await makeDir();
    return open(temp, 'wx', 0o600).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      made = null;
      await makeDir();
      return open(temp, 'wx', 0o600);
    });
  };
  return {
    kind: 'outbox',
    async send(mail) {
      const date = new Date();
      const { raw, messageId } = await buildMime(mail, date);
      // The Message-ID's local part is random hex; keep only safe characters for the file name.
      const id = messageId.replace(/^<|@.*$/g, '').replace(/[^A-Za-z0-9-]/g, '') || randomUUID();
      const contactId = mail.headers?.[CONTACT_HEADER];
      const about = contactId && isUuid(contactId) ? `${contactId.toLowerCase()}-` : '';
      const target = join(dir, `${stamp(date)}-${about}${id}.eml`);
      const temp = join(dir, `.${id}.${randomUUID()}.tmp`);
      try {
        const file = await create(temp);
        try {
          await file.writeFile(raw);
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true }).catch(() => {});
        throw new MailError(`Could not write ${target}`, true, error);
      }
      return { messageId };
    },
    async forget(contactIds) {
      const wanted = contactIds.filter(isUuid).map((c) => `-${c.toLowerCase()}-`);
      const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [] as string[];
        throw err;
      });
      const doomed = names.filter((n) => n.endsWith('.eml') && wanted.some((w) => n.includes(w)));
      await Promise.all(doomed.map((n) => rm(join(dir, n), { force: true })));
      return doomed.length;
    },
  };
}
