import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { openSse } from '../../support/sse.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

const SUB =
  'subscription($documentId: ID, $contactId: ID) { documentProcessed(documentId: $documentId, contactId: $contactId) { id status insights { wordCount } } }';

function wsClient(token: string | null) {
  return createClient({
    url: `${t.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
}

interface Event {
  data?: { documentProcessed: { id: string; status: string; insights: { wordCount: number } | null } };
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Collects events from one subscription until `until` says stop. */
function collect(client: ReturnType<typeof wsClient>, variables: Record<string, unknown>) {
  const events: Event[] = [];
  let fail: (e: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, r) => {
    fail = r;
  });
  const dispose = client.subscribe<Event['data']>(
    { query: SUB, variables },
    { next: (e) => events.push(e as Event), error: (e) => fail(e), complete: () => undefined },
  );
  return { events, dispose, failed };
}

const upload = async (name: string, content: string) => {
  const r = await multipart<{ uploadDocument: { id: string } }>(
    t.url,
    UPLOAD,
    { file: null },
    [{ path: 'variables.file', name, content }],
    {
      staff: true,
    },
  );
  return r.data!.uploadDocument.id;
};

describe('documentProcessed over graphql-ws', () => {
  it('delivers the processed document to staff, filtered by its arguments', async () => {
    const client = wsClient(STAFF_TOKEN);
    const all = collect(client, {});
    await new Promise((r) => setTimeout(r, 300));
    const first = await upload('one.txt', 'alpha beta gamma delta');
    const other = collect(client, { documentId: '00000000-0000-4000-8000-000000000000' });
    const deadline = Date.now() + 20_000;
    while (!all.events.some((e) => e.data?.documentProcessed.id === first) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const mine = all.events.find((e) => e.data?.documentProcessed.id === first);
    expect(mine?.data?.documentProcessed).toEqual({
      id: first,
      status: 'COMPLETED',
      insights: { wordCount: 4 },
    });
    expect(other.events).toEqual([]);
    all.dispose();
    other.dispose();
    await client.dispose();
  });

  it('refuses a connection without a staff token (4403 at connection_init)', async () => {
    const client = wsClient(null);
    const sub = collect(client, {});
    const outcome = await Promise.race([
      sub.failed.catch((e: { code?: number }) => e.code),
      new Promise((r) => setTimeout(() => r('still open'), 10_000)),
    ]);
    expect(outcome).toBe(4403);
    expect(sub.events).toEqual([]);
    await client.dispose();
  });
});

describe('documentProcessed over SSE', () => {
  it('streams the event as text/event-stream', async () => {
    const sse = await openSse(t.url, SUB);
    expect(sse.res.headers.get('content-type')).toContain('text/event-stream');
    await new Promise((r) => setTimeout(r, 300));
    const id = await upload('two.txt', 'one two three');
    const text = await sse.read((seen) => seen.includes(id), 20_000);
    expect(text).toContain(`"id":"${id}"`);
    expect(text).toContain('"status":"COMPLETED"');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^dossier_subscriptions_active\{transport="sse"\} 1$/m);
    sse.close();
  });
});
