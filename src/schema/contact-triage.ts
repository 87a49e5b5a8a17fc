import { CONTACT_STATUSES, type ContactNote } from '../entities/index.ts';
import { addContactNote, notesOfContacts, updateContact } from '../resolvers/contact.ts';
import { noteBodySchema, tagsSchema } from '../services/contacts/contact-triage.ts';
import { builder } from './builder.ts';
import { ContactRef } from './contact.ts';

export const ContactStatus = builder.enumType('ContactStatus', { values: CONTACT_STATUSES });

const ContactNoteRef = builder.objectRef<ContactNote>('ContactNote').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    body: t.exposeString('body'),
    author: t.exposeString('author', {
      description: 'Who wrote it: the caller\'s actor ("root" for the root token)',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.objectFields(ContactRef, (t) => ({
  status: t.expose('status', {
    type: ContactStatus,
    authScopes: { read: true },
    description: 'Staff only; NEW on intake',
  }),
  tags: t.exposeStringList('tags', { authScopes: { read: true }, description: 'Staff only; lower-case' }),
  notes: t.loadableGroup({
    type: ContactNoteRef,
    authScopes: { read: true },
    description: 'Staff only, oldest first',
    load: notesOfContacts,
    group: (note) => note.contact.id,
    resolve: (contact) => contact.id,
  }),
  updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'Last triage change or note' }),
}));

const UpdateContactInput = builder.inputType('UpdateContactInput', {
  fields: (t) => ({
    status: t.field({ type: ContactStatus }),
    tags: t.stringList({
      description: 'Replaces the set: lower-cased, 1..40 characters each, at most 20',
      validate: { schema: tagsSchema },
    }),
  }),
});

builder.mutationField('updateContact', (t) =>
  t.field({
    type: ContactRef,
    authScopes: { write: true },
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateContactInput, required: true }),
    },
    resolve: updateContact,
  }),
);

builder.mutationField('addContactNote', (t) =>
  t.field({
    type: ContactNoteRef,
    authScopes: { write: true },
    args: {
      contactId: t.arg.id({ required: true }),
      body: t.arg.string({
        required: true,
        description: '1..5000 characters',
        validate: { schema: noteBodySchema },
      }),
    },
    resolve: addContactNote,
  }),
);
