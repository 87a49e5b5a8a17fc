import { ApiTokenEntity } from './api-token.entity.ts';
import { AuditEventEntity } from './audit-event.entity.ts';
import { ContactEntity } from './contact.entity.ts';
import { ContactNoteEntity } from './contact-note.entity.ts';
import { DocumentEntity } from './document.entity.ts';
import { ErasureEntity } from './erasure.entity.ts';

export const entities = [
  ContactEntity,
  ContactNoteEntity,
  DocumentEntity,
  ApiTokenEntity,
  AuditEventEntity,
  ErasureEntity,
];
export type { ApiToken } from './api-token.entity.ts';
export type { AuditEvent } from './audit-event.entity.ts';
export type { Contact, ContactStatus } from './contact.entity.ts';
export { CONTACT_STATUSES, NOTIFICATION_STATUSES } from './contact.entity.ts';
export type { ContactNote } from './contact-note.entity.ts';
export type { Document, DocumentStatus, Insights } from './document.entity.ts';
export { DOCUMENT_STATUSES } from './document.entity.ts';
export type { Erasure } from './erasure.entity.ts';
export { ERASURE_STATUSES } from './erasure.entity.ts';
export { ApiTokenEntity, AuditEventEntity, ContactEntity, ContactNoteEntity, DocumentEntity, ErasureEntity };
