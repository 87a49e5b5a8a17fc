import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../../context.ts';
import { ContactEntity, type Document, DocumentEntity } from '../../entities/index.ts';
import { AppError } from '../../errors.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import { singleLine } from '../shared/text-rules.ts';
import { isUuid } from '../shared/uuid.ts';
import { earlierDuplicates } from './duplicates.ts';
import type { IncomingFile, UploadService } from './uploads.service.ts';

export const documentTypeSchema = singleLine(100).min(1, 'must not be empty');

export function createDocumentService(deps: { uploads: UploadService; jobs: JobQueue; audit: AuditService }) {
  const { uploads, jobs, audit } = deps;
  return {
    /** Stores a staff upload, inserts its row and queues its extraction, all or nothing. */
    async upload(
      em: EntityManager,
      by: Actor,
      req: { file: IncomingFile; contactId: string | null; documentType: string | null },
    ): Promise<Document> {
      if (
        req.contactId &&
        !(isUuid(req.contactId) && (await em.count(ContactEntity, { id: req.contactId })))
      ) {
        await uploads.discard([req.file]);
        throw new AppError('NOT_FOUND', 'No contact with this id', { argument: 'contactId' });
      }
      const [stored] = await uploads.store([req.file], req.contactId ?? 'unassigned', req.documentType, {
        name: 'file',
        list: false,
      });
      let doc: Document;
      try {
        doc = await em.transactional(async (tx) => {
          const created = tx.create(DocumentEntity, { ...uploads.toRow(stored!), contact: req.contactId });
          await tx.flush();
          await jobs.enqueue(tx, QUEUES.extract, { documentId: created.id });
          await audit.record(tx, {
            ...by,
            action: 'document.upload',
            subjectType: 'Document',
            subjectId: created.id,
            details: { contactId: req.contactId, size: created.size, contentType: created.contentType },
          });
          return created;
        });
      } catch (err) {
        await uploads.removeStored([stored!]);
        throw err;
      }
      jobs.wake(QUEUES.extract);
      return doc;
    },
    byId: (em: EntityManager, id: string): Promise<Document | null> =>
      isUuid(id) ? em.findOne(DocumentEntity, { id }) : Promise.resolve(null),
    /** The documents of many contacts in one query, oldest first. */
    forContacts: (em: EntityManager, contactIds: readonly string[]): Promise<Document[]> =>
      em.find(
        DocumentEntity,
        { contact: { $in: [...contactIds] } },
        { orderBy: { createdAt: 'asc', id: 'asc' } },
      ),
    /** For each document, the earlier ones with the same bytes, oldest first. */
    duplicates: earlierDuplicates,
  };
}

export type DocumentService = ReturnType<typeof createDocumentService>;
