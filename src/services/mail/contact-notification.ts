import escapeHtml from 'escape-html';
import { CONTACT_HEADER, type OutgoingMail } from './mailer.ts';

export interface NotificationDocument {
  filename: string;
  contentType: string;
  size: number;
  status: string;
  insights: {
    wordCount: number;
    pageCount: number | null;
    language: string | null;
    keywords: string[];
    ocr?: boolean;
  } | null;
  /** The first earlier document with the same bytes (sent before, by anyone), when there is one. */
  duplicateOf?: { filename: string; receivedAt: Date } | null;
}

export interface NotificationContact {
  id: string;
  name: string;
  email: string;
  company: string | null;
  service: string | null;
  message: string;
  source: string;
  createdAt: Date;
}

export interface ContactNotificationInput {
  to: string[];
  from: string;
  contact: NotificationContact;
  documents: NotificationDocument[];
}

// C0, DEL, C1, line/paragraph separators and bidi overrides: none may reach a header or a one-line field.
const controls = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]+/gu;
// In multi-line text keep \n and \t, drop the other control characters (a lone \r included).
const bodyControls = /[^\P{Cc}\n\t]/gu;
const simpleAddress = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:".]+(\.[^\s@<>()[\]\\,;:".]+)+$/;

/** One line of user text: every control character becomes a space, runs collapse, length capped. */
export function oneLine(value: string, max: number): string {
  const flat = value.replace(controls, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

function multiLine(value: string): string {
  return value.replace(/\r\n?/g, '\n').replace(bodyControls, '').trim();
}

/** The address when it is a plain, header-safe mailbox (no display name, no CR/LF), else null. */
export function safeAddress(value: string): string | null {
  const v = value.trim();
  return v.length <= 254 && simpleAddress.test(v) ? v : null;
}

export function formatBytes(size: number): string {
  if (size < 1000) return `${size} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = size / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function documentLine(doc: NotificationDocument): string {
  const original = doc.duplicateOf;
  const head =
    `${oneLine(doc.filename, 200)} (${oneLine(doc.contentType, 100)}, ${formatBytes(doc.size)})` +
    (original
      ? ` [duplicate of ${oneLine(original.filename, 200)}, received ${original.receivedAt.toISOString()}]`
      : '');
  const i = doc.insights;
  if (!i) return `${head}: status ${oneLine(doc.status, 40)}`;
  const parts = [`${i.wordCount.toLocaleString('en')} words`];
  if (i.pageCount !== null) parts.push(`${i.pageCount} pages`);
  if (i.language) parts.push(`language ${oneLine(i.language, 20)}`);
  const keywords = i.keywords.slice(0, 10).map((k) => oneLine(k, 40));
  if (keywords.length > 0) parts.push(`keywords: ${keywords.join(', ')}`);
  if (i.ocr) parts.push('text read by OCR');
  return `${head}: ${parts.join(', ')}`;
}

const none = (value: string | null) => (value && oneLine(value, 100)) || '—';

/** The owner's email for a new contact: single-line, capped subject; Reply-To the submitter when safe. */
export function renderContactNotification(input: ContactNotificationInput): OutgoingMail {
  const { contact, documents } = input;
  const name = oneLine(contact.name, 80) || 'unnamed';
  const company = contact.company ? oneLine(contact.company, 50) : '';
  const subject = oneLine(`New contact: ${name}${company ? ` (${company})` : ''}`, 150);
  const fields: [string, string][] = [
    ['Name', name],
    ['Email', oneLine(contact.email, 254)],
    ['Company', none(contact.company)],
    ['Service', none(contact.service)],
    ['Source', oneLine(contact.source, 100)],
    ['Received', contact.createdAt.toISOString()],
  ];
  const message = multiLine(contact.message);
  const docs = documents.map(documentLine);

  const text = [
    ...fields.map(([k, v]) => `${k}: ${v}`),
    '',
    'Message:',
    message,
    '',
    documents.length > 0 ? `Documents (${documents.length}):` : 'Documents: none',
    ...docs.map((d) => `- ${d}`),
    '',
    `Contact id: ${contact.id}`,
  ].join('\n');

  const rows = fields.map(([k, v]) => `<tr><th align="left">${k}</th><td>${escapeHtml(v)}</td></tr>`);
  const html = [
    '<!doctype html><html><body>',
    `<h1>${escapeHtml(subject)}</h1>`,
    `<table>${rows.join('')}</table>`,
    '<h2>Message</h2>',
    `<p style="white-space:pre-wrap">${escapeHtml(message)}</p>`,
    `<h2>Documents (${documents.length})</h2>`,
    docs.length > 0 ? `<ul>${docs.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>` : '<p>None</p>',
    `<p><small>Contact id: ${escapeHtml(oneLine(contact.id, 64))}</small></p>`,
    '</body></html>',
  ].join('\n');

  const replyTo = safeAddress(contact.email) ?? undefined;
  return {
    from: input.from,
    to: input.to,
    ...(replyTo ? { replyTo } : {}),
    subject,
    text,
    html,
    headers: { [CONTACT_HEADER]: oneLine(contact.id, 64) },
  };
}

export interface ContactAcknowledgementInput {
  from: string;
  /** Where the submitter's answers should go, e.g. the owner's address. */
  replyTo?: string;
  /** Shown in the subject and signature, e.g. "Acme Consulting". */
  siteName: string;
  contact: Pick<NotificationContact, 'id' | 'email'>;
}

/**
 * A short thank-you to the submitter, or null when their address is not safe to send to.
 * It echoes no submitted text: anyone can type someone else's address into a public form.
 */
export function renderContactAcknowledgement(input: ContactAcknowledgementInput): OutgoingMail | null {
  const to = safeAddress(input.contact.email);
  if (!to) return null;
  const site = oneLine(input.siteName, 80);
  const subject = oneLine(`Thank you for contacting ${site}`, 150);
  const body = 'We have received your message and will get back to you soon.';
  const replyTo = input.replyTo ? safeAddress(input.replyTo) : null;
  return {
    from: input.from,
    to: [to],
    ...(replyTo ? { replyTo } : {}),
    subject,
    text: `Hello,\n\n${body}\n\n${site}\n`,
    html: `<!doctype html><html><body><p>Hello,</p><p>${body}</p><p>${escapeHtml(site)}</p></body></html>`,
    headers: { [CONTACT_HEADER]: oneLine(input.contact.id, 64), 'Auto-Submitted': 'auto-replied' },
  };
}
