import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity, p } from '@mikro-orm/postgresql';
import { ErasureRepository } from './erasure.repository.ts';

export const ERASURE_STATUSES = ['PENDING', 'DONE', 'FAILED'] as const;

/** One erasure request and its progress; holds ids only, never personal data. */
export const ErasureEntity = defineEntity({
  name: 'Erasure',
  tableName: 'erasures',
  repository: () => ErasureRepository,
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    status: p.enum(ERASURE_STATUSES).default('PENDING'),
    contactIds: p.json<string[]>(),
    // Filled by the run that deletes the rows, so a later run still knows which search entries to remove.
    documentIds: p.json<string[]>(),
    reason: p.string().length(20).default('request'),
    actor: p.string().length(255),
    attempts: p.integer().default(0),
    requestedAt: p.datetime().onCreate(() => new Date()),
    completedAt: p.datetime().nullable(),
    error: p.text().nullable(),
  },
});

export type Erasure = InferEntity<typeof ErasureEntity>;
