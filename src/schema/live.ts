import type { Contact } from '../entities/index.ts';
import { subscribeContactSubmitted } from '../resolvers/contact.ts';
import { builder } from './builder.ts';
import { ContactRef } from './contact.ts';

builder.subscriptionField('contactSubmitted', (t) =>
  t.field({
    type: ContactRef,
    description: 'Each new contact, once its intake transaction has committed; never a honeypot submission',
    authScopes: { read: true },
    subscribe: subscribeContactSubmitted,
    resolve: (contact: Contact) => contact,
  }),
);
