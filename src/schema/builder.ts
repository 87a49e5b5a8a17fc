import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ZodPlugin from '@pothos/plugin-zod';
import { DateTimeResolver } from 'graphql-scalars';
import { type FileUpload, GraphQLUpload } from 'graphql-upload-ts';
import type { Context } from '../context.ts';
import { AppError, badInput } from '../errors.ts';

export const builder = new SchemaBuilder<{
  Context: Context;
  // read: queries, subscriptions, downloads; write: triage, notes, uploads, reprocess; admin: tokens, audit, erasure, export.
  AuthScopes: { public: boolean; read: boolean; write: boolean; admin: boolean };
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Upload: { Input: Promise<FileUpload>; Output: never };
  };
}>({
  plugins: [ScopeAuthPlugin, ZodPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      public: true,
      read: ctx.viewer.scopes.includes('READ'),
      write: ctx.viewer.scopes.includes('WRITE'),
      admin: ctx.viewer.scopes.includes('ADMIN'),
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.viewer.authenticated
        ? new AppError('FORBIDDEN', 'Not allowed')
        : new AppError('UNAUTHENTICATED', 'A staff bearer token is required'),
  },
  zod: {
    validationError: (error) =>
      badInput(
        'Invalid input',
        error.issues.map((i) => ({
          path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
          message: i.message,
        })),
      ),
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('Upload', GraphQLUpload);
