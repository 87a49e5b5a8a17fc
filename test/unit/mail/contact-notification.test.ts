import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  renderContactAcknowledgement,
  renderContactNotification,
} from '../../../src/services/mail/contact-notification.ts';
import { MailError, type OutgoingMail } from '../../../src/services/mail/mailer.ts';
import { buildMime } from '../../../src/services/mail/mime.ts';
import { analysedPdf, notificationInput, pendingNote } from '../../support/mail-fixtures.ts';

const baseHeaders = [
  'content-type',
  'date',
  'from',
  'message-id',
  'mime-version',
  'subject',
  'to',
  'x-dossier-contact-id',
];

async function parse(mail: OutgoingMail) {
  const { raw } = await buildMime(mail);
  const text = raw.toString('utf8');
  const headerBlock = text.slice(0, text.indexOf('\r\n\r\n'));
  return { parsed: await simpleParser(raw), headerBlock };
}

describe('renderContactNotification', () => {
  it('renders the contact and documents into subject, text and html', async () => {
    const mail = renderContactNotification(notificationInput());
    expect(mail.subject).toBe('New contact: Ada Lovelace (Analytical Engines)');
    expect(mail.replyTo).toBe('ada@example.com');
    expect(mail.to).toEqual(['owner@dossier.test']);
    expect(mail.headers).toEqual({ 'X-Dossier-Contact-Id': '3f1c6a52-1b1e-4d8e-9d55-4f7f1b0c2a11' });
    for (const line of [
      'Name: Ada Lovelace',
      'Email: ada@example.com',
      'Company: Analytical Engines',
      'Service: Audit',
      'Source: website',
      'Received: 2025-01-02T03:04:05.000Z',
      'Message:\nHello,\nplease call me.',
      'Documents (2):',
      '- report.pdf (application/pdf, 12 kB): 1,234 words, 3 pages, language en, keywords: audit, tax',
      '- notes.txt (text/plain, 512 B): status PENDING',
    ]) {
      expect(mail.text).toContain(line);
    }
    expect(mail.html).toContain(
      '<li>report.pdf (application/pdf, 12 kB): 1,234 words, 3 pages, language en, keywords: audit, tax</li>',
    );
    expect(mail.html).toContain('<li>notes.txt (text/plain, 512 B): status PENDING</li>');
  });

  it('omits missing optional fields and says when there are no documents', () => {
    const mail = renderContactNotification(notificationInput({ company: null, service: null }, []));
    expect(mail.subject).toBe('New contact: Ada Lovelace');
    expect(mail.text).toContain('Company: —');
    expect(mail.text).toContain('Service: —');
    expect(mail.text).toContain('Documents: none');
    expect(mail.html).toContain('<h2>Documents (0)</h2>');
    expect(mail.html).toContain('<p>None</p>');
  });

  it('lists insights without pages, language or keywords when they are absent', () => {
    const doc = { ...analysedPdf, insights: { wordCount: 7, pageCount: null, language: null, keywords: [] } };
    const mail = renderContactNotification(notificationInput({}, [doc]));
    expect(mail.text).toContain('- report.pdf (application/pdf, 12 kB): 7 words\n');
  });

  it('marks a duplicate attachment with the file it repeats, and text read by OCR', () => {
    const scan = {
      ...analysedPdf,
      filename: 'cv-scan.pdf',
      insights: { wordCount: 9, pageCount: 1, language: null, keywords: [], ocr: true },
      duplicateOf: { filename: 'cv <old>.pdf', receivedAt: new Date('2024-12-31T23:00:00Z') },
    };
    const mail = renderContactNotification(notificationInput({}, [scan]));
    const line =
      'cv-scan.pdf (application/pdf, 12 kB) [duplicate of cv <old>.pdf, received 2024-12-31T23:00:00.000Z]: 9 words, 1 pages, text read by OCR';
    expect(mail.text).toContain(`- ${line}\n`);
    expect(mail.html).toContain(`<li>${line.replace('<old>', '&lt;old&gt;')}</li>`);
  });

  it('escapes every user value in the html part', () => {
    const mail = renderContactNotification(
      notificationInput(
        {
          name: '<script>alert(1)</script>',
          company: 'Smith & "Sons"',
          message: "<b>hi</b> & 'bye'",
        },
        [{ ...pendingNote, filename: '<img src=x onerror=alert(1)>.txt' }],
      ),
    );
    expect(mail.html).not.toMatch(/<script|<img|<b>/);
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('Smith &amp; &quot;Sons&quot;');
    expect(mail.html).toContain('&lt;b&gt;hi&lt;/b&gt; &amp; &#39;bye&#39;');
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt;.txt');
    // The text part is plain text: kept verbatim.
    expect(mail.text).toContain('Name: <script>alert(1)</script>');
  });

  it('lets no CR/LF from name, company or email become a header', async () => {
    const mail = renderContactNotification(
      notificationInput({
        name: 'x\r\nBcc: evil@x.test',
        company: 'y\nX-Evil: 1\u2028Cc: evil2@x.test',
        email: 'a@b.test\r\nBcc: evil@x.test',
      }),
    );
    expect(mail.replyTo).toBeUndefined();
    const { parsed, headerBlock } = await parse(mail);
    expect([...parsed.headers.keys()].sort()).toEqual(baseHeaders);
    expect(parsed.subject).toBe('New contact: x Bcc: evil@x.test (y X-Evil: 1 Cc: evil2@x.test)');
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.cc).toBeUndefined();
    expect(headerBlock).not.toMatch(/^(bcc|cc|x-evil):/im);
    expect(parsed.text).toContain('Email: a@b.test Bcc: evil@x.test');
  });

  it('sets Reply-To only for a plain valid address', () => {
    for (const email of [
      '"Eve" <eve@x.test>',
      'a@b.test, c@d.test',
      'no-at-sign',
      'a@localhost',
      'a b@c.test',
    ]) {
      expect(renderContactNotification(notificationInput({ email })).replyTo).toBeUndefined();
    }
    expect(
      renderContactNotification(notificationInput({ email: 'first.last+tag@sub.example.org' })).replyTo,
    ).toBe('first.last+tag@sub.example.org');
  });

  it('caps the subject and strips control characters', () => {
    const mail = renderContactNotification(
      notificationInput({ name: `A\u0000\u0007\u001b[31m${'n'.repeat(500)}`, company: 'c'.repeat(500) }),
    );
    expect(mail.subject.length).toBeLessThanOrEqual(150);
    expect(mail.subject).toMatch(/^New contact: A \[31mn{73}… \(c{49}…\)$/);
    expect(mail.subject).not.toMatch(/\p{Cc}/u);
  });

  it('drops bidi overrides from one-line fields and stray controls from the message', () => {
    const mail = renderContactNotification(
      notificationInput({ name: 'Eve\u202egpj.exe', message: 'a\u0007b\rc\r\nd\n\te\u0000' }),
    );
    expect(mail.subject).toBe('New contact: Eve gpj.exe (Analytical Engines)');
    expect(mail.text).toContain('Message:\nab\nc\nd\n\te\n');
  });

  it('round-trips through MIME with Reply-To, html, text and the contact id header', async () => {
    const { parsed } = await parse(renderContactNotification(notificationInput({ name: 'Zoë Ünal' })));
    expect(parsed.subject).toBe('New contact: Zoë Ünal (Analytical Engines)');
    expect(parsed.replyTo?.value).toEqual([{ address: 'ada@example.com', name: '' }]);
    expect(parsed.headers.get('x-dossier-contact-id')).toBe('3f1c6a52-1b1e-4d8e-9d55-4f7f1b0c2a11');
    expect(parsed.text).toContain('Name: Zoë Ünal');
    expect(parsed.html).toContain('<td>Zoë Ünal</td>');
    expect(parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
  });
});

describe('renderContactAcknowledgement', () => {
  const base = { from: 'Acme <noreply@acme.test>', replyTo: 'owner@acme.test', siteName: 'Acme Consulting' };

  it('thanks the submitter without echoing what they typed', async () => {
    const mail = renderContactAcknowledgement({ ...base, contact: { id: 'c-1', email: 'ada@example.com' } });
    expect(mail).not.toBeNull();
    const { parsed } = await parse(mail!);
    expect(parsed.subject).toBe('Thank you for contacting Acme Consulting');
    expect(parsed.to).toMatchObject({ value: [{ address: 'ada@example.com' }] });
    expect(parsed.replyTo?.value).toEqual([{ address: 'owner@acme.test', name: '' }]);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(parsed.headers.get('x-dossier-contact-id')).toBe('c-1');
    expect(parsed.text).toContain('We have received your message');
  });

  it('returns null for an address that is not safe to send to', () => {
    for (const email of ['a@b.test\r\nBcc: evil@x.test', 'a@b.test, evil@x.test', 'nope']) {
      expect(renderContactAcknowledgement({ ...base, contact: { id: 'c-1', email } })).toBeNull();
    }
  });

  it('escapes the site name and keeps it on one line', () => {
    const mail = renderContactAcknowledgement({
      ...base,
      siteName: 'A&B <i>\r\nBcc: x@y.test',
      contact: { id: 'c-1', email: 'ada@example.com' },
    })!;
    expect(mail.subject).toBe('Thank you for contacting A&B <i> Bcc: x@y.test');
    expect(mail.html).toContain('A&amp;B &lt;i&gt; Bcc: x@y.test');
  });
});

describe('buildMime', () => {
  const mail = renderContactNotification(notificationInput());

  it('returns the Message-ID it wrote', async () => {
    const { raw, messageId } = await buildMime(mail, new Date('2025-01-02T03:04:05Z'));
    const parsed = await simpleParser(raw);
    expect(messageId).toMatch(/^<[0-9a-f-]+@dossier\.test>$/);
    expect(parsed.messageId).toBe(messageId);
    expect(parsed.date?.toISOString()).toBe('2025-01-02T03:04:05.000Z');
  });

  it('refuses address headers and line breaks among the extra headers', async () => {
    const attempts: Record<string, string>[] = [
      { Bcc: 'evil@x.test' },
      { 'X-A': 'v\r\nBcc: evil@x.test' },
      { 'X A': 'v' },
    ];
    for (const headers of attempts) {
      const error = await buildMime({ ...mail, headers }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MailError);
      expect((error as MailError).retryable).toBe(false);
    }
  });

  it('formats sizes in SI units', () => {
    expect([0, 999, 1000, 12_345, 1_500_000, 25 * 1024 * 1024].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.0 kB',
      '12 kB',
      '1.5 MB',
      '26 MB',
    ]);
  });
});
