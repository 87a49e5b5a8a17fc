import { SCOPES, type Viewer } from '../context.ts';
import { builder } from './builder.ts';

export const ScopeEnum = builder.enumType('Scope', {
  description:
    'READ: queries, subscriptions, downloads; WRITE: triage, notes, uploads, reprocess; ADMIN: tokens, erasure, export, audit',
  values: SCOPES,
});

const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'Who the credential belongs to',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    kind: t.exposeString('kind', { description: '"root" | "api-token" | "oidc"' }),
    scopes: t.field({ type: [ScopeEnum], resolve: (v) => [...v.scopes] }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description: 'Who is calling, with which scopes',
    authScopes: { staff: true },
    resolve: (_root, _args, ctx) => ctx.viewer,
  }),
);
