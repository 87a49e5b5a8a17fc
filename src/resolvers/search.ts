import type { Context } from '../context.ts';
import type { DocumentStatus } from '../entities/index.ts';
import type { SearchFilter } from '../services/search/search-engine.ts';

interface FilterArg {
  documentType?: string | null;
  contactId?: string | number | null;
  status?: DocumentStatus | null;
  language?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

const toFilter = (f: FilterArg | null | undefined): SearchFilter =>
  Object.fromEntries(
    Object.entries(f ?? {})
      .filter(([, v]) => v != null)
      .map(([k, v]) => [k, k === 'contactId' ? String(v) : v]),
  );

export const searchDocuments = (
  _root: unknown,
  args: { query: string; filter?: FilterArg | null; limit?: number | null; offset?: number | null },
  ctx: Context,
) =>
  ctx.services.search.search(ctx.em, {
    query: args.query,
    filter: toFilter(args.filter),
    limit: args.limit ?? 10,
    offset: args.offset ?? 0,
  });
