import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Viewer } from '../../context.ts';
import { readOrCreateSecret } from '../shared/secret-file.ts';
import { API_TOKEN_PREFIX, type ApiTokens } from './api-tokens.service.ts';
import type { OidcVerifier } from './oidc.verifier.ts';
import { anonymous, ROOT } from './viewers.ts';

export interface AuthService {
  /** The root token, to print at start. */
  readonly token: string;
  readonly generated: boolean;
  /**
   * Who an `Authorization` header belongs to: the root token, an API token (`dsr_…`) or an OIDC
   * bearer JWT. `fresh` skips the API token cache (a long-lived socket's periodic recheck).
   */
  viewer(authorization: string | null | undefined, opts?: { fresh?: boolean }): Promise<Viewer>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** Constant-time check of an `Authorization: Bearer …` header against a token. */
export function bearerMatches(header: string | null | undefined, token: string): boolean {
  const match = BEARER.exec(header ?? '');
  // Compare digests so that timing reveals neither the token nor its length.
  return match ? timingSafeEqual(digest(match[1]!), digest(token)) : false;
}

/** ADMIN_TOKEN when set; otherwise one generated on first start and kept in the data dir. */
export async function readRootToken(adminToken: string | null, dataDir: string) {
  if (adminToken) return { token: adminToken, generated: false };
  const { secret: token, generated } = await readOrCreateSecret(join(resolve(dataDir), 'admin-token'), () =>
    randomBytes(24).toString('base64url'),
  );
  return { token, generated };
}

export function createAuthService(deps: {
  root: { token: string; generated: boolean };
  apiTokens: ApiTokens;
  oidc: OidcVerifier | null;
}): AuthService {
  const { root, apiTokens, oidc } = deps;
  return {
    token: root.token,
    generated: root.generated,
    async viewer(authorization, opts = {}) {
      if (!authorization) return anonymous('missing');
      const credential = BEARER.exec(authorization)?.[1];
      if (!credential) return anonymous('malformed');
      if (timingSafeEqual(digest(credential), digest(root.token))) return ROOT;
      if (credential.startsWith(API_TOKEN_PREFIX)) return apiTokens.verify(credential, opts);
      if (oidc && JWT_SHAPE.test(credential)) return oidc.verify(credential);
      return anonymous('unknown_token');
    },
  };
}
