import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../../context.ts';
import { ContactEntity, type Document, DocumentEntity } from '../../entities/index.ts';
import { AppError } from '../../errors.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import { QUEUES } from '../jobs/queues.ts';
import { loadSearchDocuments } from '../search/search.service.ts';
import type { SearchEngine } from '../search/search-engine.ts';
import { singleLine } from '../shared/text-rules.ts';
import { isUuid } from '../shared/uuid.ts';
import type { IncomingFile, UploadService } from './uploads.service.ts';

export const documentTypeSchema = singleLine(100).min(1, 'must not be empty');

export function createDocumentService(deps: {
  uploads: UploadService;
  jobs: JobQueue;
  audit: AuditService;
  engine: SearchEngine;
}) {
  const { uploads, jobs, audit, engine } = deps;

  /** Back to PENDING with a new extraction job and its audit event, in one transaction. */
  function reset(em: EntityManager, by: Actor, id: string, notFound: () => AppError): Promise<void> {
    return em.transactional(async (tx) => {
      const changed = await tx.nativeUpdate(
        DocumentEntity,
        { id, status: { $in: ['COMPLETED', 'FAILED'] } },
        {
          status: 'PENDING',
          error: null,
          text: null,
          insights: null,
          processedAt: null,
          indexedAt: null,
          attempts: 0,
        },
      );
      if (!changed) {
        if (await tx.count(DocumentEntity, { id })) {
          throw new AppError('CONFLICT', 'The document is being processed; try again once it has finished');
        }
        throw notFound();
      }
      await jobs.enqueue(tx, QUEUES.extract, { documentId: id });
      await audit.record(tx, {
        ...by,
        action: 'document.reprocess',
        subjectType: 'Document',
        subjectId: id,
      });
    });
  }

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
    /** The extracted texts of many documents in one query, in the order of `ids`; null until COMPLETED. */
    textsOf: (em: EntityManager, ids: readonly string[]): Promise<(string | null)[]> =>
      em.getRepository(DocumentEntity).textsOf(ids),

    /**
     * Runs extraction again for a COMPLETED or FAILED document: back to PENDING without its text,
     * insights or search entry, a new extraction job, one transaction. The pipeline then runs as for
     * a new document (extract -> index -> publish): one documentProcessed, once it can be found.
     */
    async reprocess(em: EntityManager, by: Actor, id: string): Promise<Document> {
      const notFound = () => new AppError('NOT_FOUND', 'No document with this id', { argument: 'id' });
      if (!isUuid(id)) throw notFound();
      // Out of the engine before its extraction job exists, so the index step that follows the
      // extraction always comes after this removal. An engine down fails the reprocess, unchanged.
      const removed = (await em.count(DocumentEntity, { id, status: { $in: ['COMPLETED', 'FAILED'] } })) > 0;
      if (removed) await engine.remove([id]);
      try {
        await reset(em, by, id, notFound);
      } catch (err) {
        // Nothing changed in the database: the document goes back into the engine as it is there (a
        // failed one stays out). Should that fail too, the index repair puts it back.
        if (removed) {
          await loadSearchDocuments(em.fork(), [id])
            .then((docs) => (docs.length ? engine.index(docs) : undefined))
            .catch(() => undefined);
        }
        throw err;
      }
      jobs.wake(QUEUES.extract);
      return em.findOneOrFail(DocumentEntity, { id }, { refresh: true });
    },

    /** The documents of many contacts in one query, oldest first. */
    forContacts: (em: EntityManager, contactIds: readonly string[]): Promise<Document[]> =>
      em.find(
        DocumentEntity,
        { contact: { $in: [...contactIds] } },
        { orderBy: { createdAt: 'asc', id: 'asc' } },
      ),
    /** For each document, the earlier ones with the same bytes, oldest first. */
    duplicates: (em: EntityManager, docs: readonly Document[]): Promise<Document[][]> =>
      em.getRepository(DocumentEntity).earlierDuplicates(docs),
  };
}
