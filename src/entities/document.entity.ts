import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity, p } from '@mikro-orm/postgresql';
import { ContactEntity } from './contact.entity.ts';
import { DocumentRepository } from './document.repository.ts';

export const DOCUMENT_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/** What extraction learnt of a document: its `insights` JSON column. */
export interface Insights {
  wordCount: number;
  pageCount: number | null;
  /** ISO 639-1, or null when undetermined. */
  language: string | null;
  /** Up to 10, most significant first, stop words removed. */
  keywords: string[];
  /** Pages without a text layer whose text was not recognised (OCR off). */
  needsOcr: boolean;
  /** Some of the text came from OCR. */
  ocr: boolean;
}

export const DocumentEntity = defineEntity({
  name: 'Document',
  tableName: 'documents',
  repository: () => DocumentRepository,
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    contact: () => p.manyToOne(ContactEntity).nullable().deleteRule('set null').index(),
    filename: p.string().length(255),
    contentType: p.string().length(127),
    documentType: p.string().length(100).nullable(),
    size: p.bigint('number'),
    sha256: p.string().length(64).index(),
    storageKey: p.string().length(1024),
    status: p.enum(DOCUMENT_STATUSES).default('PENDING').index(),
    error: p.text().nullable(),
    // Lazy: the extracted text can be megabytes and most reads do not need it.
    text: p.text().nullable().lazy(),
    insights: p.json<Insights>().nullable(),
    attempts: p.integer().default(0),
    // Milliseconds, like a JS Date: a keyset cursor holds the exact value.
    createdAt: p.datetime(3).onCreate(() => new Date()),
    processedAt: p.datetime().nullable(),
    // Set by the index step; null while the search engine does not have this version.
    indexedAt: p.datetime().nullable(),
  },
});

export type Document = InferEntity<typeof DocumentEntity>;
