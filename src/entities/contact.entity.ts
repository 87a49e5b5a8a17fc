import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity, p } from '@mikro-orm/postgresql';
import { ContactRepository } from './contact.repository.ts';
import { ContactNoteEntity } from './contact-note.entity.ts';
import { DocumentEntity } from './document.entity.ts';

export const NOTIFICATION_STATUSES = ['PENDING', 'SENT', 'FAILED', 'SKIPPED'] as const;
export const CONTACT_STATUSES = ['NEW', 'OPEN', 'REPLIED', 'ARCHIVED', 'SPAM'] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

export const ContactEntity = defineEntity({
  name: 'Contact',
  tableName: 'contacts',
  repository: () => ContactRepository,
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    name: p.string().length(100),
    email: p.string().length(254),
    company: p.string().length(100).nullable(),
    service: p.string().length(100).nullable(),
    message: p.text(),
    source: p.string().length(100),
    // Milliseconds, like a JS Date: a keyset cursor holds the exact value.
    createdAt: p.datetime(3).onCreate(() => new Date()),
    updatedAt: p
      .datetime(3)
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    status: p.enum(CONTACT_STATUSES).default('NEW'),
    tags: p.array().default([]),
    // Unique so that concurrent requests with one key insert exactly one row.
    idempotencyKey: p.string().length(255).nullable().unique(),
    // sha256 of the canonical input: a repeated key with other input is a CONFLICT.
    inputHash: p.string().length(64).nullable(),
    notificationStatus: p.enum(NOTIFICATION_STATUSES).default('PENDING'),
    notificationAttempts: p.integer().default(0),
    notificationLastError: p.text().nullable(),
    notificationSentAt: p.datetime().nullable(),
    notificationMessageId: p.string().length(255).nullable(),
    documents: () => p.oneToMany(DocumentEntity).mappedBy('contact'),
    notes: () => p.oneToMany(ContactNoteEntity).mappedBy('contact'),
  },
});

export type Contact = InferEntity<typeof ContactEntity>;
