import { actorOf, type Context } from '../context.ts';
import { ContactEntity, type Document } from '../entities/index.ts';
import type { IncomingFile } from '../services/documents/uploads.service.ts';
import type { DocumentProcessedEvent } from '../services/events/events.ts';

export const documentById = (_root: unknown, args: { id: string | number }, ctx: Context) =>
  ctx.services.documents.byId(ctx.em, String(args.id));

export const documentContact = (doc: Document, _args: unknown, ctx: Context) =>
  doc.contact ? ctx.em.findOne(ContactEntity, { id: doc.contact.id }) : null;

export const uploadDocument = (
  _root: unknown,
  args: { file: IncomingFile; contactId?: string | number | null; documentType?: string | null },
  ctx: Context,
) =>
  ctx.services.documents.upload(ctx.em, actorOf(ctx), {
    file: args.file,
    contactId: args.contactId == null ? null : String(args.contactId),
    documentType: args.documentType ?? null,
  });

export const subscribeDocumentProcessed = (
  _root: unknown,
  args: { contactId?: string | number | null; documentId?: string | number | null },
  ctx: Context,
) =>
  ctx.services.events.documentProcessed(
    {
      contactId: args.contactId == null ? null : String(args.contactId),
      documentId: args.documentId == null ? null : String(args.documentId),
    },
    ctx.transport,
  );

// A fresh EntityManager per event: a subscription's context lives long and its identity map would go stale.
export const documentFromEvent = async (event: DocumentProcessedEvent, _args: unknown, ctx: Context) => {
  const doc = await ctx.services.documents.byId(ctx.em.fork(), event.documentId);
  if (!doc) throw new Error(`document ${event.documentId} vanished before delivery`);
  return doc;
};
