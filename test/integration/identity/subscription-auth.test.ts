import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { asBearer, createToken, errorCode, VIEWER } from '../../support/identity.ts';
import { AUDIENCE, SHORT_CLIENT, signingKey, startOidcPeer } from '../../support/oidc-peer.ts';
import { openSse } from '../../support/sse.ts';

let t: TestApp;
let peer: Awaited<ReturnType<typeof startOidcPeer>>;
beforeAll(async () => {
  peer = await startOidcPeer([await signingKey('ws')]);
  t = await startTestApp({
    OIDC_ISSUER: peer.issuer,
    OIDC_AUDIENCE: AUDIENCE,
    OIDC_CLOCK_TOLERANCE_SECONDS: '1',
    API_TOKEN_CACHE_SECONDS: '1',
  });
});
afterAll(async () => {
  await t?.stop();
  await peer?.stop();
});

/** A graphql-ws client that connects at once and holds one subscription; `closed` resolves with the close code. */
function connect(authorization: string | null) {
  let acknowledged = false;
  let ack: () => void = () => undefined;
  const opened = new Promise<void>((r) => {
    ack = r;
  });
  const closed = new Promise<number>((resolve) => {
    const client = createClient({
      url: `${t.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { authorization } : {},
      lazy: false,
      retryAttempts: 0,
      on: {
        connected: () => {
          acknowledged = true;
          ack();
        },
        closed: (e) => resolve((e as { code: number }).code),
      },
      onNonLazyError: () => undefined,
    });
    client.subscribe(
      { query: 'subscription { documentProcessed { id } }' },
      {
        next: () => undefined,
        error: () => undefined,
        complete: () => undefined,
      },
    );
  });
  const acked = within(opened, 10_000, 'connection_ack');
  // A refused socket is never acknowledged: its timer's rejection must not go unhandled.
  acked.catch(() => undefined);
  return { closed, opened: acked, acknowledged: () => acknowledged };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`no ${what} within ${ms} ms`)), ms)),
  ]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('credentials over WebSocket', () => {
  it('closes a connection_init without a valid credential with 4403', async () => {
    for (const authorization of [null, 'Bearer nope', `Bearer dsr_${'A'.repeat(43)}`, 'Bearer a.b.c']) {
      const c = connect(authorization);
      expect(await within(c.closed, 10_000, 'close')).toBe(4403);
      expect(c.acknowledged()).toBe(false);
    }
  });

  it("closes a revoked API token's socket within seconds, and keeps the others open", async () => {
    const { token, apiToken } = await createToken(t.url, ['READ']);
    const doomed = connect(`Bearer ${token}`);
    const root = connect(`Bearer ${STAFF_TOKEN}`);
    await Promise.all([doomed.opened, root.opened]);
    await t.staff('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id: apiToken.id });
    expect(await within(doomed.closed, 10_000, 'close after the revoke')).toBe(4403);
    expect(root.acknowledged()).toBe(true);
    expect(await Promise.race([root.closed, sleep(100).then(() => 'open')])).toBe('open');
  });

  it('closes an API token socket when the token expires', async () => {
    const { token } = await createToken(t.url, ['READ'], { expiresAt: new Date(Date.now() + 2000) });
    const c = connect(`Bearer ${token}`);
    await c.opened;
    expect(await within(c.closed, 10_000, 'close at expiry')).toBe(4403);
  });

  it("closes a JWT's socket with 4403 when the JWT expires", async () => {
    const jwt = await peer.token('dossier:read', { client: SHORT_CLIENT }); // lives 3 s
    expect((await asBearer(t.url, jwt, VIEWER)).errors).toBeUndefined();
    const c = connect(`Bearer ${jwt}`);
    await c.opened;
    expect(await within(c.closed, 15_000, 'close at expiry')).toBe(4403);
    // Verified JWTs are remembered, but never past their expiry.
    expect(errorCode(await asBearer(t.url, jwt, VIEWER))).toBe('UNAUTHENTICATED');
  });
});

describe('credentials over SSE', () => {
  const SUB = 'subscription { documentProcessed { id } }';
  const ended = (text: string) => text.includes('event: complete');
  /** The stream's last event before `complete`: an UNAUTHENTICATED error, then the response ends. */
  const expectEndedUnauthenticated = (text: string) => {
    const events = text.split('\n\n').filter((e) => e.startsWith('event:'));
    expect(events.at(-1)).toBe('event: complete\ndata:');
    const last = JSON.parse(events.at(-2)!.replace(/^event: next\ndata: /, ''));
    expect(last.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  };

  it("ends a JWT's subscription with UNAUTHENTICATED when the JWT expires", async () => {
    const jwt = await peer.token('dossier:read', { client: SHORT_CLIENT }); // lives 3 s
    const sse = await openSse(t.url, SUB, {}, jwt);
    try {
      expect(sse.res.status).toBe(200);
      expect(ended(await sse.read(ended, 1000))).toBe(false);
      expectEndedUnauthenticated(await sse.read(ended, 15_000));
    } finally {
      sse.close();
    }
  });

  it("ends a revoked API token's subscription within seconds, and keeps the others open", async () => {
    const { token, apiToken } = await createToken(t.url, ['READ']);
    const [doomed, root] = [await openSse(t.url, SUB, {}, token), await openSse(t.url, SUB)];
    try {
      await t.staff('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id: apiToken.id });
      expectEndedUnauthenticated(await doomed.read(ended, 10_000));
      expect(ended(await root.read(ended, 100))).toBe(false);
    } finally {
      doomed.close();
      root.close();
    }
  });
});
