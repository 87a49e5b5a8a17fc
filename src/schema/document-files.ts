import { documentDownloadUrl, reprocessDocument, textsOfDocuments } from '../resolvers/document.ts';
import { builder } from './builder.ts';
import { DocumentRef } from './document.ts';

builder.objectFields(DocumentRef, (t) => ({
  text: t.loadable({
    type: 'String',
    nullable: true,
    authScopes: { read: true },
    description: 'Staff only: the extracted text, null until COMPLETED',
    load: textsOfDocuments,
    resolve: (doc) => doc.id,
  }),
  indexedAt: t.expose('indexedAt', {
    type: 'DateTime',
    nullable: true,
    description: 'When search got this version of the document; null while it has not (yet)',
  }),
  downloadUrl: t.string({
    authScopes: { read: true },
    description: `Staff only: a signed link to the original bytes that expires (DOWNLOAD_URL_TTL_SECONDS); inline: shown in the browser rather than saved`,
    args: { inline: t.arg.boolean({ defaultValue: false }) },
    resolve: documentDownloadUrl,
  }),
}));

builder.mutationField('reprocessDocument', (t) =>
  t.field({
    type: DocumentRef,
    authScopes: { write: true },
    description:
      'Runs extraction again for a COMPLETED or FAILED document; CONFLICT while it is PENDING or PROCESSING',
    args: { id: t.arg.id({ required: true }) },
    resolve: reprocessDocument,
  }),
);
