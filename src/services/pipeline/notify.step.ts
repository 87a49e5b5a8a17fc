import type { MikroORM } from '@mikro-orm/postgresql';
import { type Contact, ContactEntity, DocumentEntity } from '../../entities/index.ts';
import type { Logger } from '../../logger.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import { renderContactAcknowledgement, renderContactNotification } from '../mail/contact-notification.ts';
import { MailError, type Mailer, type OutgoingMail, type SentMail } from '../mail/mailer.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { StepOutcome } from './extract.step.ts';

export interface NotifyDeps {
  orm: MikroORM;
  mailer: Mailer;
  jobs: JobQueue;
  metrics: Metrics;
  log: Logger;
  mail: { from: string; to: string[]; acknowledge: boolean; waitSeconds: number };
}

const RECHECK_SECONDS = 2;
// While a send is in flight the message-id column holds this prefix and the time it started.
const SENDING = 'sending:';
// Far beyond a send's own time limits (5 s connect + 10 s request): an older claim was abandoned.
const STALE_CLAIM_SECONDS = 60;

type ContactUpdate = Partial<
  Pick<
    Contact,
    | 'notificationStatus'
    | 'notificationAttempts'
    | 'notificationLastError'
    | 'notificationSentAt'
    | 'notificationMessageId'
  >
>;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Writes the outcome of a send, retrying a short database hiccup so that it cannot cause a resend. */
async function record(deps: NotifyDeps, contactId: string, data: ContactUpdate): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.orm.em.fork().nativeUpdate(ContactEntity, { id: contactId }, data);
      return;
    } catch (err) {
      if (attempt >= 4) throw err;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

/**
 * Notification step: waits (by re-queueing itself) until the contact's documents are final or the
 * wait is over, then sends the owner's email once. Before sending it claims the contact (attempts + 1,
 * an in-flight marker); after, it records SENT with the message id. A run that finds an abandoned
 * claim cannot know whether the email left, so it marks FAILED instead of risking a second copy.
 * Retryable failures throw (the queue backs off); permanent ones end FAILED. Both keep lastError.
 */
export async function notifyStep(deps: NotifyDeps, contactId: string): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const contact = await em.findOne(ContactEntity, { id: contactId });
  if (contact?.notificationStatus !== 'PENDING') return 'skipped';
  if (contact.notificationMessageId?.startsWith(SENDING)) return abandonedClaim(deps, contact);
  const documents = await em.find(
    DocumentEntity,
    { contact: contactId },
    { orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  const pending = documents.some((d) => d.status === 'PENDING' || d.status === 'PROCESSING');
  const waited = (Date.now() - contact.createdAt.getTime()) / 1000;
  if (pending && waited < deps.mail.waitSeconds) {
    await deps.jobs.enqueue(
      null,
      QUEUES.notify,
      { contactId },
      { startAfterSeconds: Math.min(RECHECK_SECONDS, Math.ceil(deps.mail.waitSeconds - waited)) },
    );
    return 'skipped';
  }
  const mail = renderContactNotification({
    from: deps.mail.from,
    to: deps.mail.to,
    contact: {
      id: contact.id,
      name: contact.name,
      email: contact.email,
      company: contact.company ?? null,
      service: contact.service ?? null,
      message: contact.message,
      source: contact.source,
      createdAt: contact.createdAt,
    },
    documents: documents.map((d) => ({
      filename: d.filename,
      contentType: d.contentType,
      size: d.size,
      status: d.status,
      insights: d.status === 'COMPLETED' ? (d.insights ?? null) : null,
    })),
  });
  // Conditional on the state just read: of two runs racing, exactly one may send.
  const attempts = contact.notificationAttempts + 1;
  const claimed = await em.nativeUpdate(
    ContactEntity,
    {
      id: contactId,
      notificationStatus: 'PENDING',
      notificationMessageId: null,
      notificationAttempts: contact.notificationAttempts,
    },
    { notificationAttempts: attempts, notificationMessageId: `${SENDING}${new Date().toISOString()}` },
  );
  if (claimed === 0) return 'skipped';
  const sent = await send(deps, contactId, mail, attempts);
  if (!sent) return 'failed';
  if (deps.mail.acknowledge) await acknowledge(deps, contact);
  return 'done';
}

/** One attempt: records SENT, or lastError (and FAILED when permanent); rethrows what may succeed later. */
async function send(
  deps: NotifyDeps,
  contactId: string,
  mail: OutgoingMail,
  attempt: number,
): Promise<SentMail | null> {
  let sent: SentMail;
  try {
    sent = await deps.mailer.send(mail);
  } catch (err) {
    const permanent = err instanceof MailError && !err.retryable;
    deps.metrics.emailsFailed.inc({ kind: 'notification', permanent: String(permanent) });
    deps.log.warn({ err, contactId, attempt, permanent }, 'notification not sent');
    await record(deps, contactId, {
      notificationMessageId: null,
      notificationLastError: errorText(err),
      ...(permanent ? { notificationStatus: 'FAILED' as const } : {}),
    });
    if (permanent) return null;
    throw err;
  }
  deps.metrics.emailsSent.inc({ kind: 'notification' });
  deps.log.info({ contactId, attempt, messageId: sent.messageId }, 'notification sent');
  await record(deps, contactId, {
    notificationStatus: 'SENT',
    notificationSentAt: new Date(),
    notificationMessageId: sent.messageId,
    notificationLastError: null,
  });
  return sent;
}

/**
 * A claim another run holds: while fresh that run may still record its outcome, so try again later
 * (throwing keeps the job); once stale, whether the email left is unknown.
 */
async function abandonedClaim(deps: NotifyDeps, contact: Contact): Promise<StepOutcome> {
  const started = contact.notificationMessageId!.slice(SENDING.length);
  const age = (Date.now() - Date.parse(started)) / 1000;
  if (age < STALE_CLAIM_SECONDS) throw new Error(`A send started at ${started} has not finished yet`);
  const lastError =
    `Attempt ${contact.notificationAttempts} stopped while sending (started ${started}); ` +
    'the email may have been delivered, so it is not sent again';
  await record(deps, contact.id, {
    notificationStatus: 'FAILED',
    notificationMessageId: null,
    notificationLastError: lastError,
  });
  deps.metrics.emailsFailed.inc({ kind: 'notification', permanent: 'true' });
  deps.log.error({ contactId: contact.id }, lastError);
  return 'failed';
}

/** Best effort: the owner's email is what must not be lost; a failed thank-you is counted and logged. */
async function acknowledge(deps: NotifyDeps, contact: { id: string; email: string }) {
  const ack = renderContactAcknowledgement({
    from: deps.mail.from,
    replyTo: deps.mail.to[0],
    siteName: 'Dossier',
    contact,
  });
  if (!ack) return;
  try {
    await deps.mailer.send(ack);
    deps.metrics.emailsSent.inc({ kind: 'acknowledgement' });
  } catch (err) {
    deps.metrics.emailsFailed.inc({
      kind: 'acknowledgement',
      permanent: String(err instanceof MailError && !err.retryable),
    });
    deps.log.warn({ err, contactId: contact.id }, 'acknowledgement not sent');
  }
}

/** Dead-letter step: retries ran out; the failure stays visible on the contact and counts as permanent. */
export async function notifyGaveUpStep(deps: NotifyDeps, contactId: string): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const contact = await em.findOne(ContactEntity, { id: contactId });
  if (contact?.notificationStatus !== 'PENDING') return 'skipped';
  const inFlight = contact.notificationMessageId?.startsWith(SENDING) ?? false;
  contact.notificationStatus = 'FAILED';
  contact.notificationMessageId = null;
  contact.notificationLastError = inFlight
    ? 'Retries exhausted while the last attempt was in flight; the email may have been delivered'
    : `Retries exhausted: ${contact.notificationLastError ?? 'unknown error'}`;
  await em.flush();
  deps.metrics.emailsFailed.inc({ kind: 'notification', permanent: 'true' });
  deps.log.error({ contactId, attempts: contact.notificationAttempts }, 'notification given up');
  return 'failed';
}
