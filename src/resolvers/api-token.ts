import { actorOf, type Context, type Scope } from '../context.ts';

export const apiTokens = (_root: unknown, _args: unknown, ctx: Context) =>
  ctx.services.apiTokens.list(ctx.em);

export const createApiToken = (
  _root: unknown,
  args: { name: string; scopes: Scope[]; expiresAt?: Date | null },
  ctx: Context,
) =>
  ctx.services.apiTokens.create(ctx.em, actorOf(ctx), {
    name: args.name,
    scopes: args.scopes,
    expiresAt: args.expiresAt ?? null,
  });

export const revokeApiToken = (_root: unknown, args: { id: string | number }, ctx: Context) =>
  ctx.services.apiTokens.revoke(ctx.em, actorOf(ctx), String(args.id));
