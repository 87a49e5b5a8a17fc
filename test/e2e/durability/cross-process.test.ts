import { rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { postGraphQL, STAFF_TOKEN } from '../../support/app.ts';
import { createTestDatabase } from '../../support/db.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import { scrape, total } from '../../support/metrics.ts';
import {
  documentStatus,
  dossierEnv,
  extractionJobState,
  type Proc,
  type ServerProcess,
  startRedis,
  startServerProcess,
  startWorkerProcess,
  stopProcess,
  tempDir,
  uploadFile,
} from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

interface Processed {
  id: string;
  status: string;
  insights: { wordCount: number } | null;
}

const SUB = 'subscription { documentProcessed { id status insights { wordCount } } }';

let redis: Awaited<ReturnType<typeof startRedis>>;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir: string;
let api: ServerProcess;
const running: Proc[] = [];
let env: Record<string, string>;

beforeAll(async () => {
  [redis, db, dataDir] = await Promise.all([startRedis(), createTestDatabase(), tempDir('dossier-cross-')]);
  env = dossierEnv(db.url, dataDir, { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '4' });
  // One at a time: both would create the same tables on a fresh database.
  api = await startServerProcess({ ...env, WORKERS: '0' });
  running.push(api);
});
afterAll(async () => {
  await Promise.all(running.map((p) => stopProcess(p)));
  await Promise.all([redis?.stop(), db?.drop(), dataDir && rm(dataDir, { recursive: true, force: true })]);
});

/** Subscribes on the API-only process and waits until it counts the subscription as open. */
async function subscribe<T = Processed>(query = SUB) {
  const client = createClient({
    url: `${api.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${STAFF_TOKEN}` },
    retryAttempts: 0,
  });
  const events: T[] = [];
  const errors: unknown[] = [];
  client.subscribe<Record<string, T>>(
    { query },
    {
      next: (e) => (e.data ? events.push(Object.values(e.data)[0]!) : errors.push(e.errors)),
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  await waitFor(
    async () => total(await scrape(api.url), 'dossier_subscriptions_active', { transport: 'ws' }) === 1,
    10_000,
    'the subscription to open',
  );
  return { events, errors, close: () => client.dispose() };
}

/** A TCP link to `target` that holds each new connection's traffic for `delayMs` before passing it on. */
async function slowLink(target: string, delayMs: number) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    setTimeout(() => {
      if (client.destroyed) return;
      const upstream = connect(Number(port), hostname);
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    }, delayMs);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port: local } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${local}`,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

describe('processes sharing PostgreSQL and Redis', () => {
  it('delivers documentProcessed to a subscriber on another process; WORKERS=0 extracts nothing; npm run worker does', async () => {
    const sub = await subscribe();
    const full = await startServerProcess(env);
    running.push(full);

    const { id: first } = await uploadFile(full.url, 'one.txt', 'alpha beta gamma delta');
    await waitFor(
      async () => sub.events.some((e) => e.id === first),
      20_000,
      'the event from the other process',
    );
    expect(sub.events).toEqual([{ id: first, status: 'COMPLETED', insights: { wordCount: 4 } }]);

    await stopProcess(full);
    const { id: second, status } = await uploadFile(api.url, 'two.txt', 'one two three');
    expect(status).toBe('PENDING');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await documentStatus(db.url, second)).toBe('PENDING');
    expect(await extractionJobState(db.url, second)).toBe('created');

    running.push(await startWorkerProcess(env));
    await waitFor(async () => sub.events.some((e) => e.id === second), 20_000, 'the event from the worker');
    expect(sub.events.at(-1)).toEqual({ id: second, status: 'COMPLETED', insights: { wordCount: 3 } });
    expect(await documentStatus(db.url, second)).toBe('COMPLETED');
    expect(sub.errors).toEqual([]);
    await sub.close();
  }, 60_000);

  it('spends one rate budget per client address across processes sharing Redis, from their first request; contactSubmitted reaches the other process', async () => {
    const contacts = await subscribe<{ id: string }>('subscription { contactSubmitted { id } }');
    // The second process reaches Redis through a link that answers only after 3 s: it must not serve
    // before Redis does, or its first submissions would spend its own in-memory budget instead.
    const slow = await slowLink(redis.url, 3000);
    const second = await startServerProcess({ ...env, WORKERS: '0', REDIS_URL: slow.url });
    running.push(second);
    try {
      const submit = async (url: string) => {
        const r = await postGraphQL<{ submitContact: { contact: { id: string } } }>(url, SUBMIT, {
          input: contactInput(),
        });
        return r.data?.submitContact.contact.id ?? r.errors?.[0]?.extensions?.code;
      };
      const answers = [];
      for (const url of [second.url, api.url, api.url, api.url, second.url, api.url])
        answers.push(await submit(url));
      const accepted = answers.slice(0, 4);
      expect(accepted).toEqual(accepted.map(() => expect.stringMatching(/^[0-9a-f-]{36}$/)));
      expect(answers.slice(4)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
      // The subscriber on the first process hears of those the second accepted too, and of nothing refused.
      await waitFor(async () => contacts.events.length >= 4, 20_000, 'contactSubmitted from both processes');
      expect(contacts.events.map((e) => e.id).sort()).toEqual(accepted.sort());
    } finally {
      await contacts.close();
      await stopProcess(second);
      await slow.close();
    }
  }, 60_000);
});
