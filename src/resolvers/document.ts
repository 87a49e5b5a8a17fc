import { actorOf, type Context } from '../context.ts';
import type { DocumentFilter } from '../entities/document.repository.ts';
import type { Document } from '../entities/index.ts';
import type { PageArgs } from '../entities/keyset.ts';
import type { IncomingFile } from '../services/documents/uploads.service.ts';
import type { DocumentProcessedEvent } from '../services/events/events.ts';
import { keysetConnection, type OrderArg } from './connection.ts';

type DocumentFilterArg = Omit<DocumentFilter, 'contactId'> & { contactId?: string | number | null };

export const documentById = (_root: unknown, args: { id: string | number }, ctx: Context) =>
  ctx.services.documents.byId(ctx.em, String(args.id));

export const duplicatesOfDocuments = (docs: readonly Document[], ctx: Context) =>
  ctx.services.documents.duplicates(ctx.em, docs);

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

export const contactsOfDocuments = (ids: readonly string[], ctx: Context) =>
  ctx.services.contacts.byIds(ctx.em, ids);

export const documentsPage = (
  _root: unknown,
  args: PageArgs & { filter?: DocumentFilterArg | null; orderBy?: OrderArg | null },
  ctx: Context,
) => {
  const { contactId, ...rest } = args.filter ?? {};
  const filter: DocumentFilter = { ...rest, contactId: contactId == null ? null : String(contactId) };
  const inbox = ctx.services.inbox.documents(ctx.em);
  return keysetConnection(
    args,
    (page) => inbox.page(filter, page),
    () => inbox.count(filter),
  );
};

export const textsOfDocuments = (ids: readonly string[], ctx: Context) =>
  ctx.services.documents.textsOf(ctx.em, ids);

export const documentDownloadUrl = (doc: Document, args: { inline?: boolean | null }, ctx: Context) =>
  ctx.services.downloads.url(ctx.em, actorOf(ctx), doc, args.inline ?? false);

export const reprocessDocument = (_root: unknown, args: { id: string | number }, ctx: Context) =>
  ctx.services.documents.reprocess(ctx.em, actorOf(ctx), String(args.id));
