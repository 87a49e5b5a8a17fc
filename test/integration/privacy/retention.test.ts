import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../../src/services/jobs/queues.ts';
import { RETENTION_CRON } from '../../../src/services/privacy/privacy.jobs.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { contactInput } from '../../support/factories.ts';
import { scrape, total } from '../../support/metrics.ts';
import { submitContact } from '../../support/notifications.ts';
import { erasureDone } from '../../support/privacy.ts';
import { waitFor } from '../../support/wait.ts';

const DAY = 86_400_000;
const UPDATE = `mutation ($id: ID!, $status: ContactStatus!) { updateContact(id: $id, input: { status: $status }) { id } }`;
const CONTACT = `query ($id: ID!) { contact(id: $id) { id } }`;
const RETENTION_ERASURES = `{ auditEvents(action: "contact.erase", actor: "system:retention") {
  edges { node { subjectId details } } } }`;

// The app's clock, as retention reads it: moved forward by the test, while intake keeps real time.
let now = new Date();
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ RETENTION_DAYS: '90' }, { clock: () => now });
});
afterAll(() => t?.stop());

async function contactWith(status: string): Promise<string> {
  const id = await submitContact(t, contactInput({ message: `A ${status.toLowerCase()} contact` }));
  if (status !== 'NEW') {
    const r = await t.staff(UPDATE, { id, status });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
  }
  return id;
}

/** Runs the retention job now (the schedule would, daily), then waits for the erasures it started. */
async function sweepAt(daysAhead: number) {
  now = new Date(Date.now() + daysAhead * DAY);
  const before = await erasureIds();
  await t.app.services.jobs.enqueue(null, QUEUES.retention, {});
  t.app.services.jobs.wake(QUEUES.retention);
  await waitFor(
    async () =>
      (
        await query(
          t.databaseUrl,
          `select 1 from pgboss.job where name = $1 and state not in ('completed', 'failed')`,
          [QUEUES.retention],
        )
      ).length === 0,
    15_000,
    'the retention job to finish',
  );
  const started = (await erasureIds()).filter((id) => !before.includes(id));
  for (const id of started) await erasureDone(t, id);
  return started;
}

async function erasureIds(): Promise<string[]> {
  const r = await t.staff<{ auditEvents: { edges: { node: { subjectId: string } }[] } }>(RETENTION_ERASURES);
  return r.data!.auditEvents.edges.map((e) => e.node.subjectId);
}

const exists = async (id: string) => (await t.staff(CONTACT, { id })).data?.contact != null;
const erasedByRetention = async () =>
  total(await scrape(t.url), 'dossier_erased_contacts_total', { reason: 'retention' }) ?? 0;

describe('retention (RETENTION_DAYS=90, SPAM_RETENTION_DAYS default 30)', () => {
  it('is scheduled daily', async () => {
    const rows = await query<{ cron: string }>(
      t.databaseUrl,
      'select cron from pgboss.schedule where name = $1',
      [QUEUES.retention],
    );
    expect(rows).toEqual([{ cron: RETENTION_CRON }]);
  });

  it('erases SPAM past 30 days and ARCHIVED past 90, and never a contact still being worked on', async () => {
    const spam = await contactWith('SPAM');
    const archived = await contactWith('ARCHIVED');
    const kept = [await contactWith('NEW'), await contactWith('OPEN'), await contactWith('REPLIED')];

    expect(await sweepAt(29)).toEqual([]);
    for (const id of [spam, archived, ...kept]) expect(await exists(id)).toBe(true);

    const month = await sweepAt(31);
    expect(month).toHaveLength(1);
    expect(await exists(spam)).toBe(false);
    for (const id of [archived, ...kept]) expect(await exists(id)).toBe(true);
    expect(await erasedByRetention()).toBe(1);

    const quarter = await sweepAt(91);
    expect(quarter).toHaveLength(1);
    expect(await exists(archived)).toBe(false);
    for (const id of kept) expect(await exists(id)).toBe(true);
    expect(await erasedByRetention()).toBe(2);

    // Each erasure is audited as the system's, with the ids it erased.
    const r = await t.staff<{ auditEvents: { edges: { node: { details: string } }[] } }>(RETENTION_ERASURES);
    expect(r.data!.auditEvents.edges.map((e) => JSON.parse(e.node.details).contactIds).sort()).toEqual(
      [[archived], [spam]].sort(),
    );
  }, 60_000);
});
