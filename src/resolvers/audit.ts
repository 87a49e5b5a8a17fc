import { resolveCursorConnection } from '@pothos/plugin-relay';
import type { Context } from '../context.ts';
import type { AuditEvent } from '../entities/index.ts';
import { badInput } from '../errors.ts';

interface Args {
  actor?: string | null;
  action?: string | null;
  subjectId?: string | number | null;
  after?: string | null;
  before?: string | null;
  first?: number | null;
  last?: number | null;
}

// Opaque to clients; the event id inside is the keyset position.
const PREFIX = 'audit:';
const toCursor = (id: string) => Buffer.from(`${PREFIX}${id}`).toString('base64url');
function fromCursor(cursor: string | undefined, arg: 'after' | 'before'): string | null {
  if (!cursor) return null;
  const text = Buffer.from(cursor, 'base64url').toString();
  const id = text.slice(PREFIX.length);
  if (!text.startsWith(PREFIX) || !/^\d{1,19}$/.test(id))
    throw badInput('Invalid cursor', [{ path: [arg], message: 'is not a cursor this list gave out' }]);
  return id;
}

export const auditEvents = async (_root: unknown, args: Args, ctx: Context) => {
  const filter = {
    actor: args.actor,
    action: args.action,
    subjectId: args.subjectId == null ? null : String(args.subjectId),
  };
  const { audit } = ctx.services;
  const connection = await resolveCursorConnection<Promise<AuditEvent[]>>(
    { args, toCursor: (e: AuditEvent) => toCursor(e.id) },
    ({ after, before, limit, inverted }) =>
      audit.list(ctx.em, filter, {
        after: fromCursor(after, 'after'),
        before: fromCursor(before, 'before'),
        limit,
        inverted,
      }),
  );
  return { ...connection, totalCount: () => audit.count(ctx.em, filter) };
};
