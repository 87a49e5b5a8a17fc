import type { MikroORM } from '@mikro-orm/postgresql';
import { ContactEntity, DocumentEntity } from '../../entities/index.ts';
import type { Logger } from '../../logger.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import { renderContactAcknowledgement, renderContactNotification } from '../mail/contact-notification.ts';
import { MailError, type Mailer } from '../mail/mailer.ts';
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

const RECHECK_SECONDS = 5;

/**
 * Notification step: waits (by re-queueing itself) until the contact's documents are final or the
 * wait is over, sends once, and records the message id so a re-run never sends again.
 */
export async function notifyStep(deps: NotifyDeps, contactId: string): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const contact = await em.findOne(ContactEntity, { id: contactId });
  if (!contact || contact.notificationStatus === 'SENT' || contact.notificationStatus === 'FAILED')
    return 'skipped';
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
  contact.notificationAttempts += 1;
  try {
    const sent = await deps.mailer.send(mail);
    Object.assign(contact, {
      notificationStatus: 'SENT',
      notificationSentAt: new Date(),
      notificationMessageId: sent.messageId,
      notificationLastError: null,
    });
    await em.flush();
    deps.metrics.emailsSent.inc({ kind: 'notification' });
  } catch (err) {
    const permanent = err instanceof MailError && !err.retryable;
    deps.metrics.emailsFailed.inc({ kind: 'notification', permanent: String(permanent) });
    contact.notificationLastError = err instanceof Error ? err.message : String(err);
    if (permanent) contact.notificationStatus = 'FAILED';
    await em.flush();
    if (permanent) return 'failed';
    throw err;
  }
  if (deps.mail.acknowledge) await acknowledge(deps, contact);
  return 'done';
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

/** Dead-letter step: retries ran out; the failure stays visible on the contact. */
export async function notifyGaveUpStep(deps: NotifyDeps, contactId: string): Promise<StepOutcome> {
  const em = deps.orm.em.fork();
  const contact = await em.findOne(ContactEntity, { id: contactId });
  if (!contact || contact.notificationStatus !== 'PENDING') return 'skipped';
  contact.notificationStatus = 'FAILED';
  contact.notificationLastError = `Retries exhausted: ${contact.notificationLastError ?? 'unknown error'}`;
  await em.flush();
  return 'failed';
}
