import { actorOf, type Context } from '../context.ts';

export const exportContact = (_root: unknown, args: { id: string | number }, ctx: Context) =>
  ctx.services.exports.url(ctx.em, actorOf(ctx), String(args.id));
