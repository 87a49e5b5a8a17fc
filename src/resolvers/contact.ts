import { actorOf, type Context } from '../context.ts';
import type { ContactFilter } from '../entities/contact.repository.ts';
import type { PageArgs } from '../entities/keyset.ts';
import type { ContactInput } from '../services/contacts/contact-input.ts';
import type { UpdateContact } from '../services/contacts/contact-triage.ts';
import type { IncomingFile } from '../services/documents/uploads.service.ts';
import { keysetConnection, type OrderArg } from './connection.ts';

export const submitContact = (
  _root: unknown,
  args: { input: ContactInput; attachments?: IncomingFile[] | null; idempotencyKey?: string | null },
  ctx: Context,
) =>
  ctx.services.contacts.submit(ctx.em, {
    input: args.input,
    files: args.attachments ?? [],
    idempotencyKey: args.idempotencyKey ?? null,
    clientIp: ctx.clientIp,
  });

export const contactById = (_root: unknown, args: { id: string | number }, ctx: Context) =>
  ctx.services.contacts.byId(ctx.em, String(args.id));

export const documentsOfContacts = (ids: readonly string[], ctx: Context) =>
  ctx.services.documents.forContacts(ctx.em, ids);

export const notesOfContacts = (ids: readonly string[], ctx: Context) =>
  ctx.services.triage.notesFor(ctx.em, ids);

export const contactsPage = (
  _root: unknown,
  args: PageArgs & { filter?: ContactFilter | null; orderBy?: OrderArg | null },
  ctx: Context,
) => {
  const filter = args.filter ?? {};
  const inbox = ctx.services.inbox.contacts(ctx.em);
  return keysetConnection(
    args,
    (page) => inbox.page(filter, page),
    () => inbox.count(filter),
  );
};

export const updateContact = (
  _root: unknown,
  args: { id: string | number; input: UpdateContact },
  ctx: Context,
) => ctx.services.triage.update(ctx.em, actorOf(ctx), String(args.id), args.input);

export const addContactNote = (
  _root: unknown,
  args: { contactId: string | number; body: string },
  ctx: Context,
) => ctx.services.triage.addNote(ctx.em, actorOf(ctx), String(args.contactId), args.body);

export const subscribeContactSubmitted = (_root: unknown, _args: unknown, ctx: Context) =>
  ctx.services.contacts.submitted(ctx.em, ctx.transport);
