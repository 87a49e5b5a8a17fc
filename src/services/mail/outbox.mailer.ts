import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MailError, type Mailer } from './mailer.ts';
import { buildMime } from './mime.ts';

// 2025-01-31T09-15-00-123Z: sortable by name and safe on every file system.
const stamp = (date: Date) => date.toISOString().replace(/[:.]/g, '-');

/**
 * A Mailer for development and tests: each message becomes `dir/<timestamp>-<id>.eml`, written to a
 * temporary name, flushed and renamed, so a reader never sees a partial file. I/O failures are retryable.
 */
export function createOutboxMailer(dir: string): Mailer {
  return {
    kind: 'outbox',
    async send(mail) {
      const date = new Date();
      const { raw, messageId } = await buildMime(mail, date);
      // The Message-ID's local part is random hex; keep only safe characters for the file name.
      const id = messageId.replace(/^<|@.*$/g, '').replace(/[^A-Za-z0-9-]/g, '') || randomUUID();
      const target = join(dir, `${stamp(date)}-${id}.eml`);
      const temp = join(dir, `.${id}.${randomUUID()}.tmp`);
      try {
        // Mail holds personal data: only the server's user reads it.
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const file = await open(temp, 'wx', 0o600);
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
  };
}
