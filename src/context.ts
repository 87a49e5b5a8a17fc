import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from './logger.ts';
import type { Services } from './services/index.ts';

export const SCOPES = ['READ', 'WRITE', 'ADMIN'] as const;
export type Scope = (typeof SCOPES)[number];

/** Why a credential was refused; a bounded list, so it can label a metric. */
export const DENIAL_REASONS = [
  'missing',
  'malformed',
  'unknown_token',
  'expired',
  'revoked',
  'invalid_token',
  'unknown_key',
  'issuer_unavailable',
  'insufficient_scope',
] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

/** Who is calling: `authenticated` false means no (valid) credential; scopes say what it may do. */
export interface Viewer {
  authenticated: boolean;
  /** The actor recorded in notes and the audit log: "root", "api-token:<id>" or the OIDC subject. */
  actor: string;
  kind: 'anonymous' | 'root' | 'api-token' | 'oidc';
  /** Stable id of the credential's owner: "root", the API token's id, the OIDC subject. */
  id: string;
  /** A readable name: the API token's name, the OIDC `name` or `email` claim. */
  name: string;
  scopes: readonly Scope[];
  /** When the credential stops being valid (a JWT's exp, a token's expiresAt); null: never. */
  expiresAt: Date | null;
  /** Set when a credential was presented and refused (or none was). */
  denial?: DenialReason;
}

export interface Context {
  services: Services;
  em: EntityManager;
  viewer: Viewer;
  requestId: string;
  clientIp: string;
  log: Logger;
  transport: 'http' | 'sse' | 'ws';
}

/** Who did it, for the audit log: the viewer's actor and the request it came with. */
export const actorOf = (ctx: Pick<Context, 'viewer' | 'requestId'>) => ({
  actor: ctx.viewer.actor,
  requestId: ctx.requestId,
});
export type Actor = ReturnType<typeof actorOf>;

/**
 * Defines `key` on a context as made on its first read, then kept. Not enumerable: a plugin that copies
 * the context (`{ ...serverContext }`, as the Prometheus plugin does for every response) must not make it.
 */
export function lazy<K extends keyof Context>(context: object, key: K, make: () => Context[K]): void {
  let value: Context[K] | undefined;
  Object.defineProperty(context, key, {
    enumerable: false,
    configurable: true,
    get: () => (value ??= make()),
    set: (v: Context[K]) => {
      value = v;
    },
  });
}
