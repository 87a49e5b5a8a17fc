import { z } from 'zod';
import type { ApiToken } from '../entities/index.ts';
import { apiTokens, createApiToken, revokeApiToken } from '../resolvers/api-token.ts';
import { builder } from './builder.ts';
import { ScopeEnum } from './viewer.ts';

const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    scopes: t.field({ type: [ScopeEnum], resolve: (a) => a.scopes }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Recorded at most once a minute',
    }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreateApiTokenPayload = builder
  .objectRef<{ token: string; apiToken: ApiToken }>('CreateApiTokenPayload')
  .implement({
    fields: (t) => ({
      token: t.exposeString('token', { description: 'The secret (dsr_…): shown this once, never again' }),
      apiToken: t.field({ type: ApiTokenRef, resolve: (p) => p.apiToken }),
    }),
  });

const tokenName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[^\p{Cc}]*$/u, 'must be a single line without control characters');

builder.queryField('apiTokens', (t) =>
  t.field({ type: [ApiTokenRef], authScopes: { admin: true }, resolve: apiTokens }),
);

builder.mutationField('createApiToken', (t) =>
  t.field({
    type: CreateApiTokenPayload,
    authScopes: { admin: true },
    args: {
      name: t.arg.string({ required: true, validate: { schema: tokenName } }),
      scopes: t.arg({
        type: [ScopeEnum],
        required: true,
        validate: { schema: z.array(z.enum(['READ', 'WRITE', 'ADMIN'])).min(1, 'at least one scope') },
      }),
      expiresAt: t.arg({ type: 'DateTime' }),
    },
    resolve: createApiToken,
  }),
);

builder.mutationField('revokeApiToken', (t) =>
  t.field({
    type: ApiTokenRef,
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: revokeApiToken,
  }),
);
