import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import getPort from 'get-port';
import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import Provider from 'oidc-provider';

export const AUDIENCE = 'dossier';
export const RESOURCE = 'https://dossier.example';
const OTHER_RESOURCE = 'https://other.example';
export const CLIENT = { id: 'dossier-ci', secret: 'ci-secret-0123456789abcdef' };
/** Its tokens live 3 s: for expiry while a socket is open. */
export const SHORT_CLIENT = { id: 'dossier-short', secret: 'short-secret-0123456789abcdef' };

export type SigningKey = { privateJwk: JWK; kid: string };

export async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' }, kid };
}

/**
 * A real OpenID provider (oidc-provider, certified) issuing RS256 JWT access tokens through client
 * credentials and resource indicators: audience `dossier` for RESOURCE, `other` for any other.
 * It can be restarted on the same address with another key set (rotation) and counts JWKS fetches.
 */
export async function startOidcPeer(keys: SigningKey[], opts: { issuer?: string; port?: number } = {}) {
  const port = opts.port ?? (await getPort());
  const issuer = opts.issuer ?? `http://127.0.0.1:${port}`;
  let server: Server | null = null;
  let jwksFetches = 0;

  function listen(current: SigningKey[]) {
    const client = (c: { id: string; secret: string }) => ({
      client_id: c.id,
      client_secret: c.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    });
    const provider = new Provider(issuer, {
      clients: [client(CLIENT), client(SHORT_CLIENT)],
      jwks: { keys: current.map((k) => k.privateJwk) },
      scopes: ['dossier:read', 'dossier:write', 'dossier:admin'],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resource: string, c: { clientId: string }) => ({
            scope: 'dossier:read dossier:write dossier:admin',
            audience: resource === OTHER_RESOURCE ? 'other' : AUDIENCE,
            accessTokenTTL: c.clientId === SHORT_CLIENT.id ? 3 : 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
    });
    provider.use(async (ctx, next) => {
      if (ctx.path === '/jwks') jwksFetches++;
      await next();
    });
    server = provider.listen(port);
  }

  async function stop() {
    if (!server) return;
    const s = server;
    server = null;
    await new Promise<void>((ok) => {
      s.close(() => ok());
      s.closeAllConnections();
    });
  }

  listen(keys);
  return {
    issuer,
    get jwksFetches() {
      return jwksFetches;
    },
    /** An access token from the token endpoint (client credentials). */
    async token(scope: string, opts: { client?: typeof CLIENT; resource?: string } = {}): Promise<string> {
      const c = opts.client ?? CLIENT;
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope,
          ...(opts.resource ? { resource: opts.resource } : {}),
        }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!body.access_token) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    /** Starts again on the same address with these keys (a rotation). */
    async restart(next: SigningKey[]) {
      await stop();
      listen(next);
    },
    stop,
  };
}

/** A token signed with one of the provider's own keys but with claims of the test's choosing (nbf, aud…). */
export async function forge(key: SigningKey, issuer: string, claims: JWTPayload = {}) {
  const now = Math.floor(Date.now() / 1000);
  // A fresh jti: no two forged tokens are the same string, so none is answered from the verified-token cache.
  const payload = {
    jti: randomUUID(),
    iss: issuer,
    aud: AUDIENCE,
    sub: CLIENT.id,
    iat: now,
    exp: now + 600,
    scope: 'dossier:read',
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
    .sign(await importJWK(key.privateJwk, 'RS256'));
}
