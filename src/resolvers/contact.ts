import type { Context } from '../context.ts';
import type { Contact } from '../entities/index.ts';
import type { ContactInput } from '../services/contacts/contact-input.ts';
import type { IncomingFile } from '../services/documents/uploads.service.ts';

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

export const contactDocuments = (contact: Contact, _args: unknown, ctx: Context) =>
  ctx.services.documents.forContact(ctx.em, contact.id);
