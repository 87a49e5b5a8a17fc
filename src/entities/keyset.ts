import type { QueryBuilder } from '@mikro-orm/postgresql';
import { badInput } from '../errors.ts';
import { isUuid } from '../services/shared/uuid.ts';

/** A position in a list ordered by (createdAt, id): what an opaque connection cursor holds. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

export type Order = 'asc' | 'desc';

/** One page to fetch: rows past `after` and short of `before` in `order`, `limit` of them, from the end when inverted. */
export interface KeysetPage {
  after?: Cursor;
  before?: Cursor;
  limit: number;
  inverted: boolean;
  order: Order;
}

export const MAX_PAGE_SIZE = 100;

export const encodeCursor = (row: Cursor): string =>
  Buffer.from(`${row.createdAt.getTime()}:${row.id}`).toString('base64url');

export function decodeCursor(cursor: string, argument: 'after' | 'before'): Cursor {
  const match =
    cursor.length <= 80 ? /^(\d{1,15}):(.+)$/.exec(Buffer.from(cursor, 'base64url').toString()) : null;
  if (!match || !isUuid(match[2]!)) {
    throw badInput('Invalid cursor', [{ path: [argument], message: 'is not a cursor of this connection' }]);
  }
  return { createdAt: new Date(Number(match[1])), id: match[2]! };
}

/** `first`/`last`: 1..100 and not both; cursors must decode. */
export function checkPageArgs(args: PageArgs): { after?: Cursor; before?: Cursor } {
  const issues: { path: string[]; message: string }[] = [];
  for (const key of ['first', 'last'] as const) {
    const n = args[key];
    if (n != null && (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE)) {
      issues.push({ path: [key], message: `must be between 1 and ${MAX_PAGE_SIZE}` });
    }
  }
  if (args.first != null && args.last != null) {
    issues.push({ path: ['last'], message: 'cannot be combined with first' });
  }
  if (issues.length) throw badInput('Invalid page arguments', issues);
  return {
    ...(args.after ? { after: decodeCursor(args.after, 'after') } : {}),
    ...(args.before ? { before: decodeCursor(args.before, 'before') } : {}),
  };
}

/** Adds the keyset conditions, the order and the limit on (created_at, id) of `alias`: never OFFSET. */
// biome-ignore lint/suspicious/noExplicitAny: any entity with createdAt and id; the conditions are raw SQL.
export function applyKeyset(qb: QueryBuilder<any, any>, alias: string, page: KeysetPage) {
  const key = `(${alias}.created_at, ${alias}.id)`;
  const descending = page.order === 'desc';
  if (page.after)
    qb.andWhere(`${key} ${descending ? '<' : '>'} (?, ?)`, [page.after.createdAt, page.after.id]);
  if (page.before)
    qb.andWhere(`${key} ${descending ? '>' : '<'} (?, ?)`, [page.before.createdAt, page.before.id]);
  const direction = descending !== page.inverted ? 'desc' : 'asc';
  qb.orderBy([{ createdAt: direction }, { id: direction }]).limit(page.limit);
}

/** A keyset-paged list over the query `filtered` builds (its root alias `alias`): pages, count, SQL. */
export function keysetList<T extends object, F>(
  alias: string,
  filtered: (filter: F) => QueryBuilder<T, string>,
) {
  const pageQuery = (filter: F, page: KeysetPage) => {
    const qb = filtered(filter);
    applyKeyset(qb, alias, page);
    return qb;
  };
  return {
    page: (filter: F, page: KeysetPage): Promise<T[]> => pageQuery(filter, page).getResult() as Promise<T[]>,
    count: (filter: F): Promise<number> => filtered(filter).getCount(),
    /** The SQL of a page with its values inlined, for plan checks and the bench. */
    sql: (filter: F, page: KeysetPage): string => pageQuery(filter, page).getFormattedQuery(),
  };
}
