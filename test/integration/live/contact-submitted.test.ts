import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import { scrape, total } from '../../support/metrics.ts';
import { openSse } from '../../support/sse.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ WORKERS: '0' });
});
afterAll(() => t.stop());

const SUB = 'subscription { contactSubmitted { id name status documents { id } } }';
interface Submitted {
  id: string;
  name: string;
  status: string;
}

const submit = async (overrides: Record<string, unknown>) => {
  const r = await t.gql<{ submitContact: { contact: { id: string } } }>(SUBMIT, {
    input: contactInput(overrides),
  });
  expect(r.errors).toBeUndefined();
  return r.data!.submitContact.contact.id;
};

const opened = (transport: string, n: number) =>
  waitFor(
    async () => total(await scrape(t.url), 'dossier_subscriptions_active', { transport }) === n,
    10_000,
    `${transport} subscription to open`,
  );

describe('contactSubmitted', () => {
  it('tells staff over graphql-ws about each new contact, never about a honeypot submission nor one erased before delivery', async () => {
    const client = createClient({
      url: `${t.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${STAFF_TOKEN}` },
      retryAttempts: 0,
    });
    const events: Submitted[] = [];
    const errors: unknown[] = [];
    const dispose = client.subscribe<{ contactSubmitted: Submitted }>(
      { query: SUB },
      {
        next: (e) => (e.data ? events.push(e.data.contactSubmitted) : errors.push(e.errors)),
        error: (e) => errors.push(e),
        complete: () => undefined,
      },
    );
    await opened('ws', 1);
    const bot = await submit({ name: 'Bot', fax: '555-0100' });
    // A contact erased between its commit and the delivery: the event names a row that is gone.
    t.app.services.events.publishContactSubmitted({ contactId: randomUUID() });
    const human = await submit({ name: 'Margaret Hamilton' });
    await waitFor(async () => events.some((e) => e.id === human), 10_000, 'the event');
    // Events are delivered in order: had the honeypot published, it would have come first.
    expect(events).toEqual([{ id: human, name: 'Margaret Hamilton', status: 'NEW', documents: [] }]);
    expect(events.map((e) => e.id)).not.toContain(bot);
    expect(errors).toEqual([]);
    dispose();
    await client.dispose();
  });

  it('streams over SSE', async () => {
    const sse = await openSse(t.url, SUB);
    expect(sse.res.headers.get('content-type')).toContain('text/event-stream');
    await opened('sse', 1);
    const id = await submit({ name: 'Katherine Johnson' });
    expect(await sse.read((text) => text.includes(id), 10_000)).toContain(`"name":"Katherine Johnson"`);
    sse.close();
  });

  it('is refused without a staff token', async () => {
    const r = await t.gql(SUB);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
