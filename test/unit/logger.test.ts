import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';

const logged = (fn: (log: ReturnType<typeof createLogger>) => void) => {
  const lines: string[] = [];
  fn(createLogger('info', { write: (l: string) => lines.push(l) }));
  return lines.join('');
};

describe('logger', () => {
  it('keeps row values and email addresses of an error out of the log, its causes included', () => {
    const pgError = Object.assign(
      new Error('duplicate key value violates unique constraint "contacts_pkey"'),
      {
        detail: 'Key (email)=(ada.private@example.com) already exists.',
        where: 'row (Ada Private, ada.private@example.com)',
        code: '23505',
      },
    );
    const ses = new Error(
      'SES send failed: MessageRejected: identities failed the check: ada.private@example.com',
      {
        cause: pgError,
      },
    );
    const out = logged((log) => log.warn({ err: ses, contactId: 'c1' }, 'acknowledgement not sent'));
    expect(out).not.toContain('ada.private');
    expect(out).not.toContain('Ada Private');
    expect(out).toContain('MessageRejected');
    expect(out).toContain('contacts_pkey');
    expect(out).toContain('[email]');
  });
});
