import { resolveCursorConnection } from '@pothos/plugin-relay';
import {
  type Cursor,
  checkPageArgs,
  encodeCursor,
  type KeysetPage,
  MAX_PAGE_SIZE,
  type Order,
  type PageArgs,
} from '../entities/keyset.ts';

export type OrderArg = 'CREATED_AT_DESC' | 'CREATED_AT_ASC';

/**
 * A Relay connection over a keyset-paged list: `fetch` reads one page, `count` runs only when a
 * client asks for totalCount.
 */
export async function keysetConnection<T extends Cursor>(
  args: PageArgs & { orderBy?: OrderArg | null },
  fetch: (page: KeysetPage) => Promise<T[]>,
  count: () => Promise<number>,
) {
  const cursors = checkPageArgs(args);
  const order: Order = args.orderBy === 'CREATED_AT_ASC' ? 'asc' : 'desc';
  const connection = await resolveCursorConnection<Promise<T[]>>(
    { args, toCursor: encodeCursor, defaultSize: 20, maxSize: MAX_PAGE_SIZE },
    ({ limit, inverted }) => fetch({ ...cursors, limit, inverted, order }),
  );
  return { ...connection, totalCount: count };
}
