import { actorOf, type Context } from '../context.ts';

export const erasureById = (_root: unknown, args: { id: string | number }, ctx: Context) =>
  ctx.services.erasure.byId(ctx.em, String(args.id));

export const eraseContact = (_root: unknown, args: { id: string | number }, ctx: Context) =>
  ctx.services.erasure.eraseContact(ctx.em, String(args.id), actorOf(ctx));

export const eraseContactsByEmail = (_root: unknown, args: { email: string }, ctx: Context) =>
  ctx.services.erasure.eraseByEmail(ctx.em, args.email, actorOf(ctx));
