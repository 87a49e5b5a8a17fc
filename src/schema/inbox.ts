import { contactsPage } from '../resolvers/contact.ts';
import { documentsPage } from '../resolvers/document.ts';
import { searchSchema } from '../services/contacts/contact-inbox.ts';
import { contactFieldRules } from '../services/contacts/contact-input.ts';
import { tagsSchema } from '../services/contacts/contact-triage.ts';
import { documentTypeSchema } from '../services/documents/documents.service.ts';
import { builder } from './builder.ts';
import { ContactRef } from './contact.ts';
import { ContactStatus } from './contact-triage.ts';
import { DocumentRef, DocumentStatus } from './document.ts';

const ORDERS = ['CREATED_AT_DESC', 'CREATED_AT_ASC'] as const;
const ContactOrder = builder.enumType('ContactOrder', { values: ORDERS });
const DocumentOrder = builder.enumType('DocumentOrder', { values: ORDERS });

const ContactFilter = builder.inputType('ContactFilter', {
  description: 'Every given condition must hold',
  fields: (t) => ({
    status: t.field({ type: [ContactStatus], description: 'Any of them' }),
    tags: t.stringList({ description: 'All of them', validate: { schema: tagsSchema } }),
    service: t.string({ validate: { schema: contactFieldRules.service } }),
    source: t.string({ validate: { schema: contactFieldRules.source } }),
    createdAfter: t.field({ type: 'DateTime', description: 'Inclusive' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Exclusive' }),
    hasDocuments: t.boolean(),
    search: t.string({
      description: 'Case-insensitive, in name, email, company and message; 3..200 characters',
      validate: { schema: searchSchema },
    }),
  }),
});

const DocumentFilter = builder.inputType('DocumentFilter', {
  description: 'Every given condition must hold',
  fields: (t) => ({
    status: t.field({ type: [DocumentStatus], description: 'Any of them' }),
    documentType: t.string({ validate: { schema: documentTypeSchema } }),
    contentType: t.string({ validate: { schema: documentTypeSchema } }),
    language: t.string({ description: 'ISO 639-1, e.g. "en"', validate: { schema: documentTypeSchema } }),
    contactId: t.id(),
    createdAfter: t.field({ type: 'DateTime', description: 'Inclusive' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Exclusive' }),
    needsOcr: t.boolean({ description: 'Pages without a text layer left unread (OCR off)' }),
    duplicate: t.boolean({ description: 'An earlier document has the same bytes (see Document.duplicates)' }),
  }),
});

const totalCount = { description: 'How many match the filter, across all pages' };

builder.queryField('contacts', (t) =>
  t.connection(
    {
      type: ContactRef,
      authScopes: { read: true },
      description: 'The inbox: first/last 1..100 (default 20), keyset-paged on (createdAt, id)',
      args: {
        filter: t.arg({ type: ContactFilter }),
        orderBy: t.arg({ type: ContactOrder, defaultValue: 'CREATED_AT_DESC' }),
      },
      resolve: contactsPage,
    },
    {
      name: 'ContactConnection',
      fields: (c) => ({ totalCount: c.int({ ...totalCount, resolve: (conn) => conn.totalCount() }) }),
    },
    { name: 'ContactEdge' },
  ),
);

builder.queryField('documents', (t) =>
  t.connection(
    {
      type: DocumentRef,
      authScopes: { read: true },
      description: 'Documents: first/last 1..100 (default 20), keyset-paged on (createdAt, id)',
      args: {
        filter: t.arg({ type: DocumentFilter }),
        orderBy: t.arg({ type: DocumentOrder, defaultValue: 'CREATED_AT_DESC' }),
      },
      resolve: documentsPage,
    },
    {
      name: 'DocumentConnection',
      fields: (c) => ({ totalCount: c.int({ ...totalCount, resolve: (conn) => conn.totalCount() }) }),
    },
    { name: 'DocumentEdge' },
  ),
);
