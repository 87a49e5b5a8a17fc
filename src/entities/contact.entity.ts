import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity, p } from '@mikro-orm/postgresql';
import { DocumentEntity } from './document.entity.ts';

export const NOTIFICATION_STATUSES = ['PENDING', 'SENT', 'FAILED', 'SKIPPED'] as const;

export const ContactEntity = defineEntity({
  name: 'Contact',
  tableName: 'contacts',
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
    createdAt: p
      .datetime()
      .onCreate(() => new Date())
      .index(),
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
  },
});

export type Contact = InferEntity<typeof ContactEntity>;
