import { searchDocuments } from '../resolvers/search.ts';
import type { DocumentSearchResult } from '../services/search/search.service.ts';
import { builder } from './builder.ts';
import { DocumentRef, DocumentStatus } from './document.ts';

const DocumentSearchFilter = builder.inputType('DocumentSearchFilter', {
  fields: (t) => ({
    documentType: t.string(),
    contactId: t.id(),
    status: t.field({ type: DocumentStatus }),
    language: t.string(),
    createdAfter: t.field({ type: 'DateTime' }),
    createdBefore: t.field({ type: 'DateTime' }),
  }),
});

const SearchHighlight = builder.objectRef<{ field: string; snippet: string }>('SearchHighlight').implement({
  description: 'Matched words wrapped in <em></em>; the rest HTML-escaped.',
  fields: (t) => ({ field: t.exposeString('field'), snippet: t.exposeString('snippet') }),
});

type Hit = DocumentSearchResult['hits'][number];
const DocumentSearchHit = builder.objectRef<Hit>('DocumentSearchHit').implement({
  fields: (t) => ({
    document: t.field({ type: DocumentRef, resolve: (h) => h.document }),
    score: t.exposeFloat('score', { nullable: true }),
    highlights: t.field({ type: [SearchHighlight], resolve: (h) => h.highlights }),
  }),
});

const DocumentSearchResultRef = builder.objectRef<DocumentSearchResult>('DocumentSearchResult').implement({
  fields: (t) => ({
    query: t.exposeString('query'),
    hits: t.field({ type: [DocumentSearchHit], resolve: (r) => r.hits }),
    totalHits: t.exposeInt('totalHits'),
    processingTimeMs: t.exposeInt('processingTimeMs'),
  }),
});

builder.queryField('searchDocuments', (t) =>
  t.field({
    type: DocumentSearchResultRef,
    authScopes: { read: true },
    args: {
      query: t.arg.string({ required: true }),
      filter: t.arg({ type: DocumentSearchFilter }),
      limit: t.arg.int({ defaultValue: 10 }),
      offset: t.arg.int({ defaultValue: 0 }),
    },
    resolve: searchDocuments,
  }),
);
