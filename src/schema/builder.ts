import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ZodPlugin from '@pothos/plugin-zod';
import { GraphQLScalarType } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { type FileUpload, GraphQLUpload } from 'graphql-upload-ts';
import { z } from 'zod';
import type { Context } from '../context.ts';
import { AppError, badInput } from '../errors.ts';
import { incomingFile } from '../http/incoming-file.ts';
import type { IncomingFile } from '../services/documents/uploads.service.ts';

const pageSize = z.number().int().min(1, 'must be 1..100').max(100, 'must be 1..100');

// One audit entry per request, however many of its fields were refused.
const denialRecorded = new WeakSet<Context>();

export const builder = new SchemaBuilder<{
  Context: Context;
  // staff: any valid credential; read: queries, subscriptions, downloads; write: triage, notes,
  // uploads, reprocess; admin: tokens, audit, erasure, export.
  AuthScopes: { public: boolean; staff: boolean; read: boolean; write: boolean; admin: boolean };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Upload: { Input: IncomingFile; Output: never };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin, ZodPlugin],
  defaultFieldNullability: false,
  // Connections only: ids stay plain uuids, no Node interface or node(id) query.
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    // Every connection pages 1..100 at a time (20 when neither is given).
    firstArgOptions: { validate: { schema: pageSize } },
    lastArgOptions: { validate: { schema: pageSize } },
  },
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      public: true,
      staff: ctx.viewer.authenticated,
      read: ctx.viewer.scopes.includes('READ'),
      write: ctx.viewer.scopes.includes('WRITE'),
      admin: ctx.viewer.scopes.includes('ADMIN'),
    }),
    unauthorizedError: (_parent, ctx, info) => {
      const { viewer } = ctx;
      if (!denialRecorded.has(ctx)) {
        denialRecorded.add(ctx);
        ctx.services.audit.denied({
          viewer,
          reason: viewer.authenticated ? 'insufficient_scope' : (viewer.denial ?? 'missing'),
          requestId: ctx.requestId,
          clientIp: ctx.clientIp,
          field: `${info.parentType.name}.${info.fieldName}`,
        });
      }
      return viewer.authenticated
        ? new AppError('FORBIDDEN', 'This credential lacks the scope this field needs')
        : new AppError('UNAUTHENTICATED', 'A valid staff bearer token is required');
    },
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
// Services receive their own IncomingFile, never the upload library's type.
builder.addScalarType(
  'Upload',
  new GraphQLScalarType<IncomingFile, never>({
    name: GraphQLUpload.name,
    description: GraphQLUpload.description,
    serialize: GraphQLUpload.serialize as () => never,
    parseLiteral: GraphQLUpload.parseLiteral as () => never,
    parseValue: (value) => incomingFile(GraphQLUpload.parseValue(value) as Promise<FileUpload>),
  }),
);
