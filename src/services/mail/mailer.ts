export interface OutgoingMail {
  from: string;
  to: string[];
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers, e.g. X-Dossier-Contact-Id. Values must already be free of CR/LF. */
  headers?: Record<string, string>;
}

export interface SentMail {
  messageId: string;
}

/** Sends one message. Rejects with MailError; `retryable` says whether a later attempt may succeed. */
export interface Mailer {
  readonly kind: 'ses' | 'outbox';
  send(mail: OutgoingMail): Promise<SentMail>;
  /**
   * Deletes the copies this mailer keeps of mails about these contacts (their X-Dossier-Contact-Id);
   * answers how many. Mail already handed to a provider is out of reach.
   */
  forget(contactIds: string[]): Promise<number>;
}

/** The header naming the contact a mail is about; the outbox files mails by it. */
export const CONTACT_HEADER = 'X-Dossier-Contact-Id';

export class MailError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, cause?: unknown) {
    super(message, { cause });
    this.retryable = retryable;
  }
}
