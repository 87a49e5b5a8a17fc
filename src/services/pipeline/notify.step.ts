import type { MikroORM } from '@mikro-orm/postgresql';
import { type Contact, ContactEntity, type Document, DocumentEntity } from '../../entities/index.ts';
import type { Logger } from '../../logger.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { type NotifyJob, QUEUES } from '../jobs/queues.ts';
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
  /** `concurrency`: how many of a job's emails are in flight at once (SES has a send rate per account). */
  mail: { from: string; to: string[]; acknowledge: boolean; waitSeconds: number; concurrency: number };
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

/** True while a send claimed in `messageId` may still be running (its claim is fresh). */
export function notificationInFlight(messageId: string | null | undefined): boolean {
  if (!messageId?.startsWith(SENDING)) return false;
  return (Date.now() - Date.parse(messageId.slice(SENDING.length))) / 1000 < STALE_CLAIM_SECONDS;
}

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

const hasPendingDocuments = (documents: Document[]) =>
  documents.some((d) => d.status === 'PENDING' || d.status === 'PROCESSING');

/**
 * Notification step for a group of contacts, each handled as if alone: a contact whose documents are
 * still being processed waits (re-queued in a later job) until they are final or the wait is over;
 * the others are claimed (attempts + 1, an in-flight marker) and their emails sent, each recorded
 * SENT with its message id as soon as it is out. A run that finds an abandoned claim cannot know
 * whether the email left, so it marks FAILED instead of risking a second copy. Permanent failures end
 * FAILED; when a send may succeed later (or another run's claim is still fresh) the step throws, so
 * the queue retries the job, and the retry skips every contact that is no longer PENDING.
 */
export async function notifyStep(deps: NotifyDeps, contactIds: string[]): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const contacts = (await em.find(ContactEntity, { id: { $in: contactIds } })).filter(
    (c) => c.notificationStatus === 'PENDING',
  );
  if (contacts.length === 0) return 'skipped';
  const documents = await em.find(
    DocumentEntity,
    { contact: { $in: contacts.map((c) => c.id) } },
    { orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  const documentsOf = Map.groupBy(documents, (d) => d.contact!.id);
  const originals = await em.getRepository(DocumentEntity).earlierDuplicates(documents);
  const duplicateOf = new Map(documents.map((d, i) => [d.id, originals[i]![0] ?? null]));
  const retryLater: string[] = [];
  const waiting: { id: string; secondsLeft: number }[] = [];
  const ready: Contact[] = [];
  for (const contact of contacts) {
    if (contact.notificationMessageId?.startsWith(SENDING)) {
      if ((await abandonedClaim(deps, contact)) === 'in flight') retryLater.push(contact.id);
      continue;
    }
    const secondsLeft = deps.mail.waitSeconds - (Date.now() - contact.createdAt.getTime()) / 1000;
    if (hasPendingDocuments(documentsOf.get(contact.id) ?? []) && secondsLeft > 0) {
      waiting.push({ id: contact.id, secondsLeft });
    } else ready.push(contact);
  }
  // Sent in rounds of MAIL_CONCURRENCY, each claimed just before it goes. After a failure that may
  // pass (SES down, throttling) the rest would most likely fail the same way: the job stops there,
  // the contacts it did not reach stay unclaimed, and the queue's retry of the job comes back for them.
  const outcomes: StepOutcome[] = [];
  let failure: unknown = null;
  for (let i = 0; i < ready.length && failure === null; i += deps.mail.concurrency) {
    const round = ready.slice(i, i + deps.mail.concurrency);
    // Rendered before the claim: a message that cannot be built must not leave a claim behind.
    const mails = new Map(
      round.map(
        (c) => [c.id, renderNotification(deps, c, documentsOf.get(c.id) ?? [], duplicateOf)] as const,
      ),
    );
    const claimed = await em
      .getRepository(ContactEntity)
      .claimNotifications([...mails.keys()], SENDING + new Date().toISOString());
    await Promise.all(
      round
        .filter((c) => claimed.has(c.id))
        .map(async (contact) => {
          try {
            // The thank-you goes while the claim still holds, so that an erasure waits for it too.
            const sent = await send(deps, contact.id, mails.get(contact.id)!, claimed.get(contact.id)!, () =>
              deps.mail.acknowledge ? acknowledge(deps, contact) : Promise.resolve(),
            );
            outcomes.push(sent ? 'done' : 'failed');
          } catch (err) {
            failure ??= err;
            retryLater.push(contact.id);
          }
        }),
    );
  }
  // The job's retry comes back for every contact still PENDING, the waiting ones included.
  if (retryLater.length) {
    const reason = failure === null ? 'another run is still sending' : errorText(failure);
    throw new Error(`${retryLater.length} of ${contactIds.length} notifications to retry: ${reason}`, {
      cause: failure,
    });
  }
  if (waiting.length) {
    const soonest = Math.min(...waiting.map((w) => w.secondsLeft));
    await deps.jobs.enqueue(
      null,
      QUEUES.notify,
      { contactIds: waiting.map((w) => w.id) } satisfies NotifyJob,
      { startAfterSeconds: Math.min(RECHECK_SECONDS, Math.ceil(soonest)) },
    );
  }
  return outcomes.includes('done') ? 'done' : outcomes.length ? 'failed' : 'skipped';
}

function renderNotification(
  deps: NotifyDeps,
  contact: Contact,
  documents: Document[],
  duplicateOf: Map<string, Document | null>,
): OutgoingMail {
  return renderContactNotification({
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
    documents: documents.map((d) => {
      const original = duplicateOf.get(d.id);
      return {
        filename: d.filename,
        contentType: d.contentType,
        size: d.size,
        status: d.status,
        insights: d.status === 'COMPLETED' ? (d.insights ?? null) : null,
        duplicateOf: original ? { filename: original.filename, receivedAt: original.createdAt } : null,
      };
    }),
  });
}

/** One attempt: records SENT (after `afterSend`), or lastError (and FAILED when permanent); rethrows what may succeed later. */
async function send(
  deps: NotifyDeps,
  contactId: string,
  mail: OutgoingMail,
  attempt: number,
  afterSend: () => Promise<void>,
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
  await afterSend();
  await record(deps, contactId, {
    notificationStatus: 'SENT',
    notificationSentAt: new Date(),
    notificationMessageId: sent.messageId,
    notificationLastError: null,
  });
  return sent;
}

/**
 * A claim another run holds: while fresh that run may still record its outcome, so try again later;
 * once stale, whether the email left is unknown.
 */
async function abandonedClaim(deps: NotifyDeps, contact: Contact): Promise<'in flight' | 'failed'> {
  const started = contact.notificationMessageId!.slice(SENDING.length);
  const age = (Date.now() - Date.parse(started)) / 1000;
  if (age < STALE_CLAIM_SECONDS) return 'in flight';
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

/** Dead-letter step: retries ran out; the failures stay visible on the contacts and count as permanent. */
export async function notifyGaveUpStep(deps: NotifyDeps, contactIds: string[]): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const contacts = await em.find(ContactEntity, { id: { $in: contactIds }, notificationStatus: 'PENDING' });
  for (const contact of contacts) {
    const inFlight = contact.notificationMessageId?.startsWith(SENDING) ?? false;
    contact.notificationStatus = 'FAILED';
    contact.notificationMessageId = null;
    contact.notificationLastError = inFlight
      ? 'Retries exhausted while the last attempt was in flight; the email may have been delivered'
      : contact.notificationAttempts === 0
        ? 'Retries exhausted before this email was tried: the sends ahead of it in its job kept failing'
        : `Retries exhausted: ${contact.notificationLastError ?? 'unknown error'}`;
  }
  await em.flush();
  for (const contact of contacts) {
    deps.metrics.emailsFailed.inc({ kind: 'notification', permanent: 'true' });
    deps.log.error(
      { contactId: contact.id, attempts: contact.notificationAttempts },
      'notification given up',
    );
  }
  return contacts.length ? 'failed' : 'skipped';
}
