import type { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../../context.ts';
import { type Contact, ContactEntity, type ContactNote, type Document } from '../../entities/index.ts';
import { AppError } from '../../errors.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { safeFilename } from '../documents/uploads.service.ts';
import type { UrlSigner, UrlVerdict } from '../shared/signed-url.ts';
import { isUuid } from '../shared/uuid.ts';
import type { ObjectStore } from '../storage/storage.ts';
import { streamZip, type ZipEntry } from './zip.ts';

export const exportPath = (contactId: string) => `/exports/${contactId}`;

const notFound = () => new AppError('NOT_FOUND', 'No such contact', { argument: 'id' });
const byCreation = (a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }) =>
  a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1);

/** `contact.json`: what Dossier keeps about the contact (ids of jobs, storage keys and hashes aside). */
export function contactJson(
  contact: Contact,
  notes: ContactNote[],
  documents: Document[],
  files: (string | null)[],
) {
  return {
    exportedAt: new Date().toISOString(),
    contact: {
      id: contact.id,
      name: contact.name,
      email: contact.email,
      company: contact.company,
      service: contact.service,
      message: contact.message,
      source: contact.source,
      status: contact.status,
      tags: contact.tags,
      createdAt: contact.createdAt,
      updatedAt: contact.updatedAt,
      notification: {
        status: contact.notificationStatus,
        attempts: contact.notificationAttempts,
        lastError: contact.notificationLastError,
        sentAt: contact.notificationSentAt,
      },
    },
    notes: notes.map((n) => ({ id: n.id, body: n.body, author: n.author, createdAt: n.createdAt })),
    documents: documents.map((d, i) => ({
      id: d.id,
      filename: d.filename,
      contentType: d.contentType,
      documentType: d.documentType,
      size: d.size,
      sha256: d.sha256,
      status: d.status,
      failureReason: d.error,
      insights: d.insights,
      createdAt: d.createdAt,
      processedAt: d.processedAt,
      indexedAt: d.indexedAt,
      textLength: d.text?.length ?? null,
      text: d.text ?? null,
      // Where its original bytes are in the zip; null when the stored object is missing.
      file: files[i] ?? null,
    })),
  };
}

/**
 * A contact's data on request (GDPR Art. 15): a zip of `contact.json` and the original files, streamed
 * from storage behind a signed link that expires, like downloads.
 */
export function createExportService(deps: {
  store: ObjectStore;
  signer: UrlSigner;
  audit: AuditService;
  ttlSeconds: number;
}) {
  const { store, signer, audit, ttlSeconds } = deps;
  return {
    /** A link to the contact's export for `by`, recorded in the audit log; NOT_FOUND once erased. */
    async url(em: EntityManager, by: Actor, contactId: string): Promise<string> {
      if (!isUuid(contactId)) throw notFound();
      await em.transactional(async (tx) => {
        if (!(await tx.count(ContactEntity, { id: contactId }))) throw notFound();
        await audit.record(tx, {
          ...by,
          action: 'contact.export',
          subjectType: 'Contact',
          subjectId: contactId,
          details: { ttlSeconds },
        });
      });
      return signer.sign(exportPath(contactId), {}, ttlSeconds);
    },

    verify: (contactId: string, params: URLSearchParams): UrlVerdict =>
      signer.verify(exportPath(contactId), params),

    /** The zip, ready to stream, with its size; null for a contact that is not (or no longer) there. */
    async open(em: EntityManager, contactId: string) {
      if (!isUuid(contactId)) return null;
      const contact = await em.findOne(
        ContactEntity,
        { id: contactId },
        { populate: ['notes', 'documents', 'documents.text'] },
      );
      if (!contact) return null;
      const notes = contact.notes.getItems().sort(byCreation);
      const documents = contact.documents.getItems().sort(byCreation);
      const objects = await Promise.all(documents.map((d) => store.stat(d.storageKey)));
      const files = documents.map((d, i) =>
        objects[i] ? `files/${d.id}-${safeFilename(d.filename)}` : null,
      );
      const json = JSON.stringify(contactJson(contact, notes, documents, files), null, 2);
      const entries: ZipEntry[] = [{ name: 'contact.json', bytes: Buffer.from(json) }];
      documents.forEach((d, i) => {
        const object = objects[i];
        const name = files[i];
        if (object && name) {
          entries.push({
            name,
            size: object.size,
            mtime: d.createdAt,
            open: (): Promise<Readable> => store.get(d.storageKey),
          });
        }
      });
      return { ...(await streamZip(entries)), filename: `contact-${contact.id}.zip` };
    },
  };
}
