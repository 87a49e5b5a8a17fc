import { MailError, type OutgoingMail } from './mailer.ts';

export interface MimeMessage {
  /** The whole RFC 5322 message, CRLF line endings. */
  raw: Buffer;
  /** The Message-ID header value, angle brackets included. */
  messageId: string;
}

// Headers the composer owns; a caller setting one of these could redirect or forge the message.
const reserved = new Set([
  'from',
  'sender',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
]);
const headerName = /^[!-9;-~]+$/;
const lineBreak = /[\r\n]/;

function checkHeaders(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!headerName.test(name) || reserved.has(name.toLowerCase())) {
      throw new MailError(`Invalid extra header name: ${JSON.stringify(name)}`, false);
    }
    if (lineBreak.test(value)) throw new MailError(`Header ${name} contains a line break`, false);
  }
}

/**
 * Builds a multipart/alternative (text + HTML, UTF-8) message with Message-ID and Date.
 * Rejects with a non-retryable MailError when the mail itself is malformed.
 */
export async function buildMime(mail: OutgoingMail, date: Date = new Date()): Promise<MimeMessage> {
  checkHeaders(mail.headers ?? {});
  if (mail.to.length === 0) throw new MailError('Mail has no recipient', false);
  // Loaded with the first mail, not at start: nodemailer is ~4 MB of heap an idle server does not need.
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  try {
    const node = new MailComposer({
      from: mail.from,
      to: mail.to,
      replyTo: mail.replyTo,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      headers: mail.headers,
      date,
      newline: 'windows',
      disableFileAccess: true,
      disableUrlAccess: true,
    }).compile();
    return { messageId: node.messageId(), raw: await node.build() };
  } catch (error) {
    throw new MailError('Could not build the MIME message', false, error);
  }
}
