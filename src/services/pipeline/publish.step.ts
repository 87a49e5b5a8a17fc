import type { MikroORM } from '@mikro-orm/postgresql';
import { DocumentEntity } from '../../entities/index.ts';
import type { Events } from '../events/events.ts';
import type { StepOutcome } from './extract.step.ts';

/** Publish step: reload by id and tell subscribers the document is final; skipped while it is not. */
export async function publishStep(
  deps: { orm: MikroORM; events: Events },
  documentId: string,
): Promise<StepOutcome> {
  const doc = await deps.orm.em.fork().findOne(DocumentEntity, { id: documentId });
  if (!doc || (doc.status !== 'COMPLETED' && doc.status !== 'FAILED')) return 'skipped';
  await deps.events.publishDocumentProcessed({
    documentId,
    contactId: doc.contact?.id ?? null,
    status: doc.status,
  });
  return 'done';
}
