import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../../context.ts';
import {
  type Contact,
  ContactEntity,
  type ContactNote,
  ContactNoteEntity,
  type ContactStatus,
} from '../../entities/index.ts';
import { AppError } from '../../errors.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { isUuid } from '../shared/uuid.ts';

export const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, 'must not be empty')
  .max(40, 'must be at most 40 characters')
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

/** Lower-case, distinct, at most 20. */
export const tagsSchema = z
  .array(tagSchema)
  .transform((tags) => [...new Set(tags)])
  .pipe(z.array(z.string()).max(20, 'at most 20 tags'));

export const noteBodySchema = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(5000, 'must be at most 5000 characters');

export interface UpdateContact {
  status?: ContactStatus | null;
  tags?: string[] | null;
}

const notFound = (argument: string) => new AppError('NOT_FOUND', 'No contact with this id', { argument });

/** Staff triage: status, tags and notes, each change and its audit event in one transaction. */
export function createContactTriage(deps: { audit: AuditService }) {
  const { audit } = deps;
  return {
    async update(em: EntityManager, by: Actor, id: string, input: UpdateContact): Promise<Contact> {
      if (!isUuid(id)) throw notFound('id');
      return em.transactional(async (tx) => {
        const contact = await tx.findOne(ContactEntity, { id });
        if (!contact) throw notFound('id');
        if (input.status != null) contact.status = input.status;
        if (input.tags != null) contact.tags = input.tags;
        contact.updatedAt = new Date();
        await tx.flush();
        await audit.record(tx, {
          ...by,
          action: 'contact.update',
          subjectType: 'Contact',
          subjectId: id,
          details: { status: input.status ?? null, tagsReplaced: input.tags != null },
        });
        return contact;
      });
    },

    async addNote(em: EntityManager, by: Actor, contactId: string, body: string): Promise<ContactNote> {
      if (!isUuid(contactId)) throw notFound('contactId');
      return em.transactional(async (tx) => {
        const contact = await tx.findOne(ContactEntity, { id: contactId });
        if (!contact) throw notFound('contactId');
        const note = tx.create(ContactNoteEntity, { contact, body, author: by.actor, createdAt: new Date() });
        contact.updatedAt = note.createdAt;
        await tx.flush();
        await audit.record(tx, {
          ...by,
          action: 'contact.note',
          subjectType: 'Contact',
          subjectId: contactId,
          details: { noteId: note.id },
        });
        return note;
      });
    },

    /** Notes of many contacts in one query, oldest first. */
    notesFor: (em: EntityManager, contactIds: readonly string[]): Promise<ContactNote[]> =>
      em.find(
        ContactNoteEntity,
        { contact: { $in: [...contactIds] } },
        { orderBy: { createdAt: 'asc', id: 'asc' } },
      ),
  };
}
