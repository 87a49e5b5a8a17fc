import { DOCUMENT_STATUSES, type Document, type Insights } from '../entities/index.ts';
import {
  contactsOfDocuments,
  documentById,
  documentFromEvent,
  duplicatesOfDocuments,
  subscribeDocumentProcessed,
  uploadDocument,
} from '../resolvers/document.ts';
import { documentTypeSchema } from '../services/documents/documents.service.ts';
import { builder } from './builder.ts';
import { ContactRef } from './contact.ts';

export const DocumentStatus = builder.enumType('DocumentStatus', { values: DOCUMENT_STATUSES });

const DocumentInsights = builder.objectRef<Insights>('DocumentInsights').implement({
  fields: (t) => ({
    wordCount: t.exposeInt('wordCount'),
    pageCount: t.exposeInt('pageCount', { nullable: true }),
    language: t.exposeString('language', { nullable: true, description: 'ISO 639-1 where known, e.g. "en"' }),
    keywords: t.exposeStringList('keywords'),
    needsOcr: t.boolean({
      description: 'Pages without a text layer (a scan, a photo) whose text was not recognised',
      resolve: (i) => i.needsOcr ?? false,
    }),
    ocr: t.boolean({
      description: 'Some of the text was recognised by OCR',
      resolve: (i) => i.ocr ?? false,
    }),
  }),
});

export const DocumentRef = builder.objectRef<Document>('Document');

DocumentRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    contact: t.loadable({
      type: ContactRef,
      nullable: true,
      load: contactsOfDocuments,
      resolve: (doc) => doc.contact?.id ?? null,
    }),
    filename: t.exposeString('filename'),
    contentType: t.exposeString('contentType'),
    documentType: t.exposeString('documentType', { nullable: true }),
    size: t.exposeInt('size'),
    sha256: t.exposeString('sha256'),
    status: t.expose('status', { type: DocumentStatus }),
    error: t.exposeString('error', { nullable: true }),
    insights: t.expose('insights', { type: DocumentInsights, nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    processedAt: t.expose('processedAt', { type: 'DateTime', nullable: true }),
    duplicates: t.loadableList({
      type: DocumentRef,
      description: 'Earlier documents with the same bytes (sha256), from any contact, oldest first',
      authScopes: { read: true },
      load: duplicatesOfDocuments,
      resolve: (doc) => doc,
      loaderOptions: { cacheKeyFn: (doc: Document) => doc.id },
    }),
  }),
});

builder.queryField('document', (t) =>
  t.field({
    type: DocumentRef,
    nullable: true,
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: documentById,
  }),
);

builder.mutationField('uploadDocument', (t) =>
  t.field({
    type: DocumentRef,
    authScopes: { write: true },
    args: {
      file: t.arg({ type: 'Upload', required: true }),
      contactId: t.arg.id(),
      documentType: t.arg.string({ validate: { schema: documentTypeSchema } }),
    },
    resolve: uploadDocument,
  }),
);

builder.subscriptionField('documentProcessed', (t) =>
  t.field({
    type: DocumentRef,
    description: 'A document reached COMPLETED or FAILED; filtered by contact and/or document when given.',
    authScopes: { read: true },
    args: { contactId: t.arg.id(), documentId: t.arg.id() },
    subscribe: subscribeDocumentProcessed,
    resolve: documentFromEvent,
  }),
);
