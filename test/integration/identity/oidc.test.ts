import { decodeProtectedHeader, exportSPKI, importJWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { asBearer, errorCode, VIEWER } from '../../support/identity.ts';
import { scrape, total } from '../../support/metrics.ts';
import {
  AUDIENCE,
  CLIENT,
  forge,
  type SigningKey,
  signingKey,
  startOidcPeer,
} from '../../support/oidc-peer.ts';

let t: TestApp;
let peer: Awaited<ReturnType<typeof startOidcPeer>>;
let k1: SigningKey;
let k2: SigningKey;
const COOLDOWN_S = 2;

beforeAll(async () => {
  [k1, k2] = await Promise.all([signingKey('k1'), signingKey('k2')]);
  peer = await startOidcPeer([k1]);
  t = await startTestApp({
    OIDC_ISSUER: peer.issuer,
    OIDC_AUDIENCE: AUDIENCE,
    OIDC_CLOCK_TOLERANCE_SECONDS: '1',
    OIDC_JWKS_COOLDOWN_SECONDS: String(COOLDOWN_S),
  });
});
afterAll(async () => {
  await t?.stop();
  await peer?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Math.floor(Date.now() / 1000);

describe('OIDC bearer JWTs from a real provider', () => {
  it('authenticates a client-credentials token with the scopes it was granted', async () => {
    for (const [scope, name] of [
      ['dossier:read', 'READ'],
      ['dossier:write', 'WRITE'],
      ['dossier:admin', 'ADMIN'],
    ] as const) {
      const jwt = await peer.token(scope);
      const r = await asBearer(t.url, jwt, VIEWER);
      expect(r.data).toEqual({ viewer: { id: CLIENT.id, name: CLIENT.id, kind: 'oidc', scopes: [name] } });
    }
    const reader = await peer.token('dossier:read');
    expect(errorCode(await asBearer(t.url, reader, '{ apiTokens { id } }'))).toBe('FORBIDDEN');
    const admin = await peer.token('dossier:admin dossier:read');
    const made = await asBearer<{ createApiToken: { apiToken: { id: string } } }>(
      t.url,
      admin,
      'mutation { createApiToken(name: "from sso", scopes: [READ]) { apiToken { id } } }',
    );
    const events = await asBearer<{ auditEvents: { edges: { node: { actor: string } }[] } }>(
      t.url,
      admin,
      'query($id: ID) { auditEvents(subjectId: $id) { edges { node { actor } } } }',
      { id: made.data!.createApiToken.apiToken.id },
    );
    expect(events.data!.auditEvents.edges[0]!.node.actor).toBe(`oidc:${CLIENT.id}`);
  });

  it('refuses a wrong audience or issuer, expired or not-yet-valid tokens, alg none and HS256 keyed with the public key', async () => {
    // The forger itself makes tokens that pass, so each refusal below is for its one defect.
    expect((await asBearer(t.url, await forge(k1, peer.issuer), VIEWER)).errors).toBeUndefined();
    const expired0 = total(await scrape(t.url), 'dossier_auth_denials_total', { reason: 'expired' }) ?? 0;

    const publicPem = await exportSPKI(
      (await importJWK({ kty: 'RSA', n: k1.privateJwk.n!, e: k1.privateJwk.e! }, 'RS256')) as CryptoKey,
    );
    const claims = {
      iss: peer.issuer,
      aud: AUDIENCE,
      sub: CLIENT.id,
      exp: now() + 600,
      scope: 'dossier:read',
    };
    const bad = {
      'wrong audience': await peer.token('dossier:read', { resource: 'https://other.example' }),
      'wrong issuer': await forge(k1, 'https://issuer.example'),
      expired: await forge(k1, peer.issuer, { iat: now() - 700, exp: now() - 60 }),
      'not yet valid': await forge(k1, peer.issuer, { nbf: now() + 120 }),
      'alg none': new UnsecuredJWT(claims).encode(),
      'HS256 with the public key': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: k1.kid })
        .sign(new TextEncoder().encode(publicPem)),
      'no sub': await forge(k1, peer.issuer, { sub: undefined }),
    };
    for (const [what, jwt] of Object.entries(bad)) {
      const r = await asBearer(t.url, jwt, VIEWER);
      expect({ what, code: errorCode(r) }).toEqual({ what, code: 'UNAUTHENTICATED' });
      expect(r.status).toBe(401);
    }
    expect(total(await scrape(t.url), 'dossier_auth_denials_total', { reason: 'expired' })).toBe(
      expired0 + 1,
    );
  });

  it('refetches keys for an unknown kid at most once per cooldown, and picks up a rotated key', async () => {
    const stranger = await signingKey('stranger');
    await sleep(COOLDOWN_S * 1000 + 100);
    const before = peer.jwksFetches;
    const started = Date.now();
    const forged = await Promise.all(Array.from({ length: 10 }, () => forge(stranger, peer.issuer)));
    const answers = await Promise.all(forged.map((jwt) => asBearer(t.url, jwt, VIEWER)));
    expect(answers.map(errorCode)).toEqual(Array(10).fill('UNAUTHENTICATED'));
    // One fetch for the lot; on a slow machine, at most one more per cooldown that went by.
    const fetches = peer.jwksFetches - before;
    expect(fetches).toBeGreaterThanOrEqual(1);
    expect(fetches).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / (COOLDOWN_S * 1000)));

    await peer.restart([k2, k1]);
    await sleep(COOLDOWN_S * 1000 + 100);
    const jwt = await peer.token('dossier:read');
    expect(decodeProtectedHeader(jwt).kid).toBe('k2');
    expect((await asBearer(t.url, jwt, VIEWER)).data).toMatchObject({ viewer: { kind: 'oidc' } });
  });

  it('keeps verifying with cached keys while the provider is down; unknown keys are UNAUTHENTICATED, never a 5xx', async () => {
    const fresh = await peer.token('dossier:read');
    await peer.stop();
    for (const jwt of [fresh, await forge(k1, peer.issuer), await forge(k2, peer.issuer)]) {
      expect((await asBearer(t.url, jwt, VIEWER)).data).toMatchObject({ viewer: { kind: 'oidc' } });
    }
    const stranger = await signingKey('stranger-2');
    for (let round = 0; round < 2; round++) {
      if (round) await sleep(COOLDOWN_S * 1000 + 100); // past the cooldown: a fetch is tried, and fails
      const r = await asBearer(t.url, await forge(stranger, peer.issuer), VIEWER);
      expect({ status: r.status, code: errorCode(r) }).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    }
  });
});
