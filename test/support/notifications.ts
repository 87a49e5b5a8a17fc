import pg from 'pg';
import type { Env } from '../../src/config.ts';
import type { NotificationDocument } from '../../src/services/mail/contact-notification.ts';
import { startTestApp, type TestApp } from './app.ts';
import { SUBMIT } from './factories.ts';
import { scrape, total } from './metrics.ts';
import { waitFor } from './wait.ts';

export interface NotificationState {
  status: 'PENDING' | 'SENT' | 'FAILED' | 'SKIPPED';
  attempts: number;
  lastError: string | null;
  sentAt: string | null;
}

// The GraphQL Document selection below has the renderer's input shape.
export type ContactDocument = NotificationDocument;

const CONTACT = /* GraphQL */ `
  query Contact($id: ID!) {
    contact(id: $id) {
      notification { status attempts lastError sentAt }
      documents { filename contentType size status insights { wordCount pageCount language keywords } }
    }
  }
`;

/** Submits the contact form (JSON, no files) and answers the new contact's id. */
export async function submitContact(t: TestApp, input: Record<string, unknown>): Promise<string> {
  const r = await t.gql<{ submitContact: { contact: { id: string } } }>(SUBMIT, { input });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.submitContact.contact.id;
}

/** The contact's notification state and documents, read as staff over GraphQL. */
export async function readContact(t: TestApp, id: string) {
  const r = await t.staff<{ contact: { notification: NotificationState; documents: ContactDocument[] } }>(
    CONTACT,
    { id },
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.contact;
}

/** Polls the contact until its notification reaches `status`; answers the contact as then read. */
export const notificationSettled = (t: TestApp, id: string, status: NotificationState['status']) =>
  waitFor(
    async () => {
      const c = await readContact(t, id);
      return c.notification.status === status && c;
    },
    20_000,
    `notification ${status}`,
  );

const HOLD_KEY = 4242;
const HOLD_CONTACTS_KEY = 4243;

/**
 * A session on the test app's database. Installs triggers that wait on advisory locks this session
 * holds: while `holdSlow()`, in the first update of documents named `slow*` (extraction marking them
 * PROCESSING), so their extraction takes as long as the test wants; while `holdContacts()`, in the
 * insert of contacts named `Held *`, so their submissions wait. Call after the app has migrated.
 */
export async function controlDatabase(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`
    create function test_hold() returns trigger language plpgsql as $$
    begin perform pg_advisory_xact_lock(tg_argv[0]::bigint); return new; end $$;
    create trigger test_hold_slow before update on documents
      for each row when (old.filename like 'slow%') execute function test_hold(${HOLD_KEY});
    create trigger test_hold_contacts before insert on contacts
      for each row when (new.name like 'Held %') execute function test_hold(${HOLD_CONTACTS_KEY});`);
  const lock = (key: number) => client.query('select pg_advisory_lock($1)', [key]).then(() => undefined);
  // Unlocks every hold of that key this session has (the lock is reentrant).
  const unlock = (key: number) =>
    client
      .query(
        `select pg_advisory_unlock($1::bigint) from generate_series(1, (select count(*) from pg_locks
            where locktype = 'advisory' and objid::bigint = $1::bigint and pid = pg_backend_pid() and granted))`,
        [key],
      )
      .then(() => undefined);
  return {
    holdSlow: () => lock(HOLD_KEY),
    releaseSlow: () => unlock(HOLD_KEY),
    holdContacts: () => lock(HOLD_CONTACTS_KEY),
    releaseContacts: () => unlock(HOLD_CONTACTS_KEY),
    /** How many transactions wait on `holdContacts()`. */
    heldContactInserts: async () =>
      Number(
        (
          await client.query(
            `select count(*) as n from pg_locks where locktype = 'advisory' and objid::bigint = $1::bigint and not granted`,
            [HOLD_CONTACTS_KEY],
          )
        ).rows[0].n,
      ),
    query: (text: string, values: unknown[] = []) => client.query(text, values),
    close: () => client.end(),
  };
}

export type DatabaseControl = Awaited<ReturnType<typeof controlDatabase>>;

/** `dossier_emails_failed_total` of notifications given up on, as /metrics shows it now. */
export async function permanentFailures(t: TestApp): Promise<number> {
  const labels = { kind: 'notification', permanent: 'true' };
  return total(await scrape(t.url), 'dossier_emails_failed_total', labels) ?? 0;
}

/** The app and a control session on its database; `stop()` lets held documents go first. */
export async function startNotificationApp(env: Env) {
  const t = await startTestApp(env);
  const db = await controlDatabase(t.databaseUrl);
  return {
    t,
    db,
    async stop() {
      await db.releaseSlow();
      await db.releaseContacts();
      await db.close();
      await t.stop();
    },
  };
}
