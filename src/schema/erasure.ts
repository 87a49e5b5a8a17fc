import { ERASURE_STATUSES, type Erasure } from '../entities/index.ts';
import { eraseContact, eraseContactsByEmail, erasureById } from '../resolvers/erasure.ts';
import { contactFieldRules } from '../services/contacts/contact-input.ts';
import { builder } from './builder.ts';

const ErasureStatus = builder.enumType('ErasureStatus', { values: ERASURE_STATUSES });

const ErasureRef = builder.objectRef<Erasure>('Erasure').implement({
  description: 'A durable erasure of contacts from every store; poll `erasure(id)` until DONE',
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.expose('status', { type: ErasureStatus }),
    contactIds: t.exposeIDList('contactIds'),
    requestedAt: t.expose('requestedAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    error: t.exposeString('error', { nullable: true }),
  }),
});

builder.queryField('erasure', (t) =>
  t.field({
    type: ErasureRef,
    nullable: true,
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: erasureById,
  }),
);

builder.mutationField('eraseContact', (t) =>
  t.field({
    type: ErasureRef,
    authScopes: { admin: true },
    description: 'Erases the contact everywhere; asking again answers the same erasure',
    args: { id: t.arg.id({ required: true }) },
    resolve: eraseContact,
  }),
);

builder.mutationField('eraseContactsByEmail', (t) =>
  t.field({
    type: ErasureRef,
    authScopes: { admin: true },
    description: 'Erases every contact with this address (compared without regard to case)',
    args: { email: t.arg.string({ required: true, validate: { schema: contactFieldRules.email } }) },
    resolve: eraseContactsByEmail,
  }),
);
