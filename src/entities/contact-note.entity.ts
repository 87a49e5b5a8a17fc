import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity, p } from '@mikro-orm/postgresql';
import { ContactEntity } from './contact.entity.ts';

export const ContactNoteEntity = defineEntity({
  name: 'ContactNote',
  tableName: 'contact_notes',
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    contact: () => p.manyToOne(ContactEntity).deleteRule('cascade'),
    body: p.text(),
    author: p.string().length(200),
    createdAt: p.datetime(3).onCreate(() => new Date()),
  },
});

export type ContactNote = InferEntity<typeof ContactNoteEntity>;
