import { z } from 'zod';
import type { AuditEvent } from '../entities/index.ts';
import { auditEvents } from '../resolvers/audit.ts';
import { builder } from './builder.ts';

const AuditEventRef = builder.objectRef<AuditEvent>('AuditEvent').implement({
  description: 'One entry of the append-only audit log',
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.expose('at', { type: 'DateTime' }),
    actor: t.exposeString('actor', { description: '"root", "api-token:<id>", "oidc:<sub>" or "anonymous"' }),
    action: t.exposeString('action', { description: 'e.g. document.upload, token.create, auth.denied' }),
    subjectType: t.exposeString('subjectType', { nullable: true }),
    subjectId: t.exposeID('subjectId', { nullable: true }),
    requestId: t.exposeString('requestId', { nullable: true }),
    details: t.string({
      nullable: true,
      description: 'JSON: ids, field names and reasons, never personal data',
      resolve: (e) => (e.details == null ? null : JSON.stringify(e.details)),
    }),
  }),
});

const filterText = z.string().max(255, 'must be at most 255 characters');

builder.queryField('auditEvents', (t) =>
  t.connection(
    {
      type: AuditEventRef,
      description: 'Newest first; the filters compose with AND',
      authScopes: { admin: true },
      args: {
        actor: t.arg.string({ validate: { schema: filterText } }),
        action: t.arg.string({ validate: { schema: filterText } }),
        subjectId: t.arg.id({ validate: { schema: filterText } }),
      },
      resolve: auditEvents,
    },
    {
      name: 'AuditEventConnection',
      fields: (c) => ({ totalCount: c.int({ resolve: (conn) => conn.totalCount() }) }),
    },
    { name: 'AuditEventEdge' },
  ),
);
