import { ContactEntity } from './contact.entity.ts';
import { DocumentEntity } from './document.entity.ts';

export const entities = [ContactEntity, DocumentEntity];
export type { Contact } from './contact.entity.ts';
export { NOTIFICATION_STATUSES } from './contact.entity.ts';
export type { Document } from './document.entity.ts';
export { DOCUMENT_STATUSES } from './document.entity.ts';
export { ContactEntity, DocumentEntity };
