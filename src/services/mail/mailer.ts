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
}

export class MailError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, cause?: unknown) {
    super(message, { cause });
    this.retryable = retryable;
  }
}
