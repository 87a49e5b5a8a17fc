import { createHash, randomUUID } from 'node:crypto';
import { type EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { filter, map, pipe } from 'graphql-yoga';
import { type Contact, ContactEntity, type Document, DocumentEntity } from '../../entities/index.ts';
import { AppError } from '../../errors.ts';
import type { IncomingFile, StoredFile, UploadService } from '../documents/uploads.service.ts';
import type { ContactSubmittedEvent, Events } from '../events/events.ts';
import type { RateLimits } from '../limits/rate-limit.service.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { isUuid } from '../shared/uuid.ts';
import type { ContactInput } from './contact-input.ts';
import type { IntakeWriter } from './intake-writer.ts';

export interface SubmitRequest {
  input: ContactInput;
  files: IncomingFile[];
  idempotencyKey: string | null;
  clientIp: string;
}

export interface SubmitResult {
  contact: Contact;
  documents: Document[];
}

interface Deps {
  intake: IntakeWriter;
  rateLimits: RateLimits;
  metrics: Metrics;
  uploads: UploadService;
  /** Sources counted under their own label; the free-text rest is `other`. */
  sources: readonly string[];
  events: Pick<Events, 'publishContactSubmitted' | 'contactSubmitted'>;
}

/** A new contact's triage state, so the answer to submitContact shows what the row holds. */
const triageDefaults = (createdAt: Date) => ({
  createdAt,
  updatedAt: createdAt,
  status: 'NEW' as const,
  tags: [] as string[],
});

const fingerprint = (input: ContactInput, files: IncomingFile[]) =>
  createHash('sha256')
    .update(
      JSON.stringify([
        input.name,
        input.email,
        input.company ?? null,
        input.service ?? null,
        input.message,
        input.source ?? 'website',
        files.length,
      ]),
    )
    .digest('hex');

export function createContactService(deps: Deps) {
  const { intake, rateLimits, metrics, uploads, events } = deps;
  const known = new Set(deps.sources);
  const sourceLabel = (source: string) => (known.has(source) ? source : 'other');
  for (const source of [...known, 'other']) metrics.contacts.inc({ source }, 0);

  async function replay(em: EntityManager, key: string, hash: string): Promise<SubmitResult | null> {
    const existing = await em.findOne(ContactEntity, { idempotencyKey: key });
    if (!existing) return null;
    if (existing.inputHash !== hash) {
      throw new AppError('CONFLICT', 'This idempotencyKey was already used with a different submission');
    }
    const documents = await em.find(
      DocumentEntity,
      { contact: existing.id },
      { orderBy: { createdAt: 'asc', id: 'asc' } },
    );
    return { contact: existing, documents };
  }

  function decoy(em: EntityManager, input: ContactInput): SubmitResult {
    const contact = em.create(
      ContactEntity,
      {
        id: randomUUID(),
        name: input.name,
        email: input.email,
        company: input.company ?? null,
        service: input.service ?? null,
        message: input.message,
        source: input.source ?? 'website',
        ...triageDefaults(new Date()),
      },
      { persist: false },
    );
    return { contact, documents: [] };
  }

  async function submit(em: EntityManager, req: SubmitRequest): Promise<SubmitResult> {
    await rateLimits.consume(req.clientIp);
    if (req.input.fax) {
      metrics.honeypot.inc();
      await uploads.discard(req.files);
      return decoy(em, req.input);
    }
    // Only a keyed submission is ever compared with another, so only it pays for the hash.
    const hash = req.idempotencyKey ? fingerprint(req.input, req.files) : null;
    if (req.idempotencyKey && hash) {
      const previous = await replay(em, req.idempotencyKey, hash);
      if (previous) {
        await uploads.discard(req.files);
        return previous;
      }
    }
    const contactId = randomUUID();
    const stored: StoredFile[] = await uploads.store(req.files, contactId);
    const contactRow = {
      id: contactId,
      name: req.input.name,
      email: req.input.email,
      company: req.input.company ?? null,
      service: req.input.service ?? null,
      message: req.input.message,
      source: req.input.source ?? 'website',
      idempotencyKey: req.idempotencyKey,
      inputHash: hash,
      ...triageDefaults(new Date()),
    };
    const documentRows = stored.map((f) => ({ ...uploads.toRow(f), contact: contactId }));
    try {
      await intake.write({ contact: contactRow, documents: documentRows });
      const contact = em.create(ContactEntity, contactRow, { persist: false });
      const documents = documentRows.map((d) =>
        em.create(DocumentEntity, { ...d, contact }, { persist: false }),
      );
      metrics.contacts.inc({ source: sourceLabel(contact.source) });
      // After the commit, so a subscriber that loads the contact finds it.
      events.publishContactSubmitted({ contactId });
      return { contact, documents };
    } catch (err) {
      await uploads.removeStored(stored);
      if (err instanceof UniqueConstraintViolationException && req.idempotencyKey && hash) {
        // A concurrent request with the same key won the insert: answer as a replay of it.
        const winner = await replay(em.fork(), req.idempotencyKey, hash);
        if (winner) return winner;
      }
      throw err;
    }
  }

  const byId = (em: EntityManager, id: string): Promise<Contact | null> =>
    isUuid(id) ? em.findOne(ContactEntity, { id }) : Promise.resolve(null);

  return {
    submit,
    byId,
    /**
     * Each contact submitted from now on, loaded with a fresh EntityManager per event (`em` lives as
     * long as the subscription); one erased before its delivery is left out.
     */
    submitted: (em: EntityManager, transport: string) =>
      pipe(
        events.contactSubmitted(transport),
        map((e: ContactSubmittedEvent) => byId(em.fork(), e.contactId)),
        filter((c: Contact | null): c is Contact => c !== null),
      ),
    /** Many contacts in one query, in the order of `ids` (null where missing). */
    async byIds(em: EntityManager, ids: readonly string[]): Promise<(Contact | null)[]> {
      const found = await em.find(ContactEntity, { id: { $in: ids.filter(isUuid) } });
      const byId = new Map(found.map((c) => [c.id, c]));
      return ids.map((id) => byId.get(id) ?? null);
    },
  };
}
