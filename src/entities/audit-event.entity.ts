import { defineEntity, type InferEntity, p } from '@mikro-orm/postgresql';

/** Append-only: a database trigger refuses UPDATE, DELETE and TRUNCATE (see its migration). */
export const AuditEventEntity = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: {
    // Identity order is insertion order: "newest first" and the keyset cursor use it.
    id: p.bigint('string').primary().autoincrement(),
    at: p.datetime().onCreate(() => new Date()),
    actor: p.string().length(255),
    action: p.string().length(64),
    subjectType: p.string().length(64).nullable(),
    subjectId: p.string().length(100).nullable(),
    requestId: p.string().length(128).nullable(),
    details: p.json<Record<string, unknown>>().nullable(),
  },
});

export type AuditEvent = InferEntity<typeof AuditEventEntity>;
