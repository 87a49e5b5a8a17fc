import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Viewer } from '../../context.ts';

export const ANONYMOUS: Viewer = { authenticated: false, actor: 'anonymous', kind: 'anonymous', scopes: [] };
const ROOT: Viewer = { authenticated: true, actor: 'root', kind: 'root', scopes: ['READ', 'WRITE', 'ADMIN'] };

export interface AuthService {
  /** The staff token, to print at start. */
  readonly token: string;
  readonly generated: boolean;
  viewer(authorization: string | null | undefined): Viewer;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time check of an `Authorization: Bearer …` header against a token. */
export function bearerMatches(header: string | null | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  // Compare digests so that timing reveals neither the token nor its length.
  return match ? timingSafeEqual(digest(match[1]!), digest(token)) : false;
}

/** ADMIN_TOKEN when set; otherwise one generated on first start and kept in the data dir. */
export async function createAuthService(adminToken: string | null, dataDir: string): Promise<AuthService> {
  let token = adminToken;
  let generated = false;
  if (!token) {
    const file = join(resolve(dataDir), 'admin-token');
    if (existsSync(file)) token = (await readFile(file, 'utf8')).trim();
    else {
      token = randomBytes(24).toString('base64url');
      generated = true;
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, `${token}\n`, { mode: 0o600 });
    }
  }
  return {
    token,
    generated,
    viewer: (authorization) => (bearerMatches(authorization, token) ? ROOT : ANONYMOUS),
  };
}
