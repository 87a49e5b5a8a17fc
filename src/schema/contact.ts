import { type Contact, type Document, NOTIFICATION_STATUSES } from '../entities/index.ts';
import { contactById, documentsOfContacts, submitContact } from '../resolvers/contact.ts';
import { contactFieldRules, idempotencyKeySchema } from '../services/contacts/contact-input.ts';
import { builder } from './builder.ts';
import { DocumentRef } from './document.ts';

export const ContactRef = builder.objectRef<Contact>('Contact');

const NotificationStatus = builder.enumType('NotificationStatus', { values: NOTIFICATION_STATUSES });

// Backed by the contact row itself: the notification columns live there.
const ContactNotification = builder.objectRef<Contact>('ContactNotification').implement({
  description: "Delivery of the owner's email about this contact",
  fields: (t) => ({
    status: t.expose('notificationStatus', { type: NotificationStatus }),
    attempts: t.exposeInt('notificationAttempts', { description: 'Send attempts so far' }),
    lastError: t.exposeString('notificationLastError', {
      nullable: true,
      description:
        'Why the last attempt failed, while retrying and after a permanent failure; null once sent',
    }),
    sentAt: t.expose('notificationSentAt', { type: 'DateTime', nullable: true }),
  }),
});

ContactRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    email: t.exposeString('email'),
    company: t.exposeString('company', { nullable: true }),
    service: t.exposeString('service', { nullable: true }),
    message: t.exposeString('message'),
    source: t.exposeString('source'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    documents: t.loadableGroup({
      type: DocumentRef,
      load: documentsOfContacts,
      group: (doc) => doc.contact!.id,
      resolve: (contact) => contact.id,
    }),
    // Staff only: submitContact answers with a Contact too, and a honeypot decoy must look the same.
    notification: t.field({
      type: ContactNotification,
      nullable: true,
      authScopes: { read: true },
      description: 'Staff only',
      resolve: (contact) => contact,
    }),
  }),
});

const ContactInput = builder.inputType('ContactInput', {
  fields: (t) => ({
    name: t.string({
      required: true,
      description: '1..100 characters after trimming',
      validate: { schema: contactFieldRules.name },
    }),
    email: t.string({
      required: true,
      description: 'A valid address, at most 254 characters',
      validate: { schema: contactFieldRules.email },
    }),
    company: t.string({
      description: 'At most 100 characters',
      validate: { schema: contactFieldRules.company },
    }),
    service: t.string({
      description: 'At most 100 characters',
      validate: { schema: contactFieldRules.service },
    }),
    message: t.string({
      required: true,
      description: '1..5000 characters',
      validate: { schema: contactFieldRules.message },
    }),
    source: t.string({
      description: 'Where the submission came from; default "website"',
      validate: { schema: contactFieldRules.source },
    }),
    fax: t.string({
      description:
        'Honeypot: render it hidden and leave it empty. A filled value is accepted silently and discarded.',
      validate: { schema: contactFieldRules.fax },
    }),
  }),
});

const SubmitContactPayload = builder
  .objectRef<{ contact: Contact; documents: Document[] }>('SubmitContactPayload')
  .implement({
    fields: (t) => ({
      contact: t.field({ type: ContactRef, resolve: (p) => p.contact }),
      documents: t.field({ type: [DocumentRef], resolve: (p) => p.documents }),
    }),
  });

builder.mutationField('submitContact', (t) =>
  t.field({
    type: SubmitContactPayload,
    authScopes: { public: true },
    args: {
      input: t.arg({ type: ContactInput, required: true }),
      attachments: t.arg({ type: ['Upload'], required: false }),
      idempotencyKey: t.arg.string({ validate: { schema: idempotencyKeySchema } }),
    },
    resolve: submitContact,
  }),
);

builder.queryField('contact', (t) =>
  t.field({
    type: ContactRef,
    nullable: true,
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: contactById,
  }),
);
