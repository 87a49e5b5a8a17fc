import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { z } from 'zod';
import type { DenialReason, Scope, Viewer } from '../../context.ts';
import type { Logger } from '../../logger.ts';
import { anonymous } from './viewers.ts';

export interface OidcOptions {
  issuer: string;
  audience: string;
  /** Accepted signing algorithms (asymmetric only; `none` and HS* are never accepted). */
  algorithms: string[];
  clockToleranceSeconds: number;
  /** Least time between two key-set fetches: an unknown `kid` cannot make us hammer the issuer. */
  jwksCooldownSeconds: number;
  /** Keys older than this are refetched in the background; the old ones keep working meanwhile. */
  jwksMaxAgeSeconds: number;
  /** Claims read for scopes: a space-separated string or an array of strings. */
  scopeClaims: string[];
}

const SCOPE_OF: Record<string, Scope> = {
  'dossier:read': 'READ',
  'dossier:write': 'WRITE',
  'dossier:admin': 'ADMIN',
};

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.url() });

class IssuerUnavailable extends Error {}

// A verified JWT is trusted again without the signature check for at most this long (and never past its exp).
const VERIFIED_CACHE_MS = 60_000;
const VERIFIED_CACHE_MAX = 1000;

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

export function scopesFrom(payload: JWTPayload, claims: string[]): Scope[] {
  const values = claims.flatMap((c) => {
    const v = payload[c];
    if (typeof v === 'string') return v.split(' ');
    return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  });
  return [...new Set(values.map((v) => SCOPE_OF[v]).filter((s): s is Scope => s !== undefined))];
}

function reasonFor(err: unknown): DenialReason {
  if (err instanceof IssuerUnavailable) return 'issuer_unavailable';
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown_key';
  return 'invalid_token';
}

/**
 * Bearer JWTs from an OpenID provider, verified with jose against the keys its discovery document
 * points to. Keys are cached; an unknown `kid` refetches them at most once per cooldown; when the
 * issuer is down the cached keys keep verifying and anything else is refused, never a server error.
 */
export function createOidcVerifier(opts: OidcOptions, log: Logger) {
  const discoveryUrl = `${opts.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let jwksUri: string | null = null;
  let keys: { get: ReturnType<typeof createLocalJWKSet>; at: number } | null = null;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | null = null;

  const mayFetch = () => Date.now() - lastAttempt >= opts.jwksCooldownSeconds * 1000;

  async function fetchKeys() {
    lastAttempt = Date.now();
    try {
      if (!jwksUri) {
        const doc = discoverySchema.parse(await getJson(discoveryUrl));
        if (doc.issuer !== opts.issuer)
          throw new Error(`discovery names issuer ${doc.issuer}, not the configured ${opts.issuer}`);
        jwksUri = doc.jwks_uri;
      }
      const jwks = (await getJson(jwksUri)) as JSONWebKeySet;
      keys = { get: createLocalJWKSet(jwks), at: Date.now() };
    } catch (err) {
      log.warn(
        { err, issuer: opts.issuer },
        'could not fetch the OpenID provider keys; keeping the cached ones',
      );
    }
  }

  /** One fetch at a time; callers share it. */
  const refresh = () => {
    pending ??= fetchKeys().finally(() => {
      pending = null;
    });
    return pending;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (!keys && mayFetch()) await refresh();
    if (!keys) throw new IssuerUnavailable();
    if (Date.now() - keys.at > opts.jwksMaxAgeSeconds * 1000 && mayFetch()) void refresh();
    try {
      return await keys.get(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !mayFetch()) throw err;
      await refresh();
      return keys.get(header, token);
    }
  };

  // Warm the cache, so the first staff request does not wait for the issuer.
  void refresh();

  /** Staff send the same JWT on every request: one RSA check per token and minute, not per request. */
  const verified = new Map<string, { viewer: Viewer; until: number }>();
  const remember = (jwt: string, viewer: Viewer) => {
    if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value!);
    verified.set(jwt, {
      viewer,
      until: Math.min(viewer.expiresAt!.getTime(), Date.now() + VERIFIED_CACHE_MS),
    });
    return viewer;
  };

  return {
    async verify(jwt: string): Promise<Viewer> {
      const hit = verified.get(jwt);
      if (hit && hit.until > Date.now()) return hit.viewer;
      if (hit) verified.delete(jwt);
      try {
        const { payload } = await jwtVerify(jwt, getKey, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: opts.algorithms,
          clockTolerance: opts.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
        });
        const sub = payload.sub!;
        const name = [payload.name, payload.email].find((v): v is string => typeof v === 'string') ?? sub;
        return remember(jwt, {
          authenticated: true,
          actor: `oidc:${sub}`,
          kind: 'oidc',
          id: sub,
          name,
          scopes: scopesFrom(payload, opts.scopeClaims),
          expiresAt: new Date((payload.exp! + opts.clockToleranceSeconds) * 1000),
        });
      } catch (err) {
        const reason = reasonFor(err);
        if (reason === 'invalid_token') log.debug({ err }, 'bearer JWT refused');
        return anonymous(reason);
      }
    },
  };
}

export type OidcVerifier = ReturnType<typeof createOidcVerifier>;
