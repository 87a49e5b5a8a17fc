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

type Makers<K extends keyof Context> = { [P in K]: (context: Context) => Context[P] };

/**
 * Context fields made on their first read, then kept: most operations need no EntityManager or child
 * logger of their own. The getters sit on one prototype shared by every context, so that contexts keep
 * one shape (accessors defined on each object gave each context a hidden class of its own, which every
 * plugin and resolver reading it paid for) and a copy of a context (`{ ...context }`) makes nothing.
 * Returns the function that gives a context these fields.
 */
export function lazyFields<K extends keyof Context>(makers: Makers<K>): (context: object) => void {
  const proto: object = Object.create(Object.prototype);
  for (const key of Object.keys(makers) as K[]) {
    const slot = Symbol(key);
    type Slotted = Context & { [slot]?: Context[K] };
    Object.defineProperty(proto, key, {
      configurable: true,
      get(this: Slotted) {
        this[slot] ??= makers[key](this);
        return this[slot];
      },
      set(this: Slotted, value: Context[K]) {
        this[slot] = value;
      },
    });
  }
  return (context) => {
    // A context made by Object.create (Yoga's batched requests) keeps its own prototype chain.
    if (Object.getPrototypeOf(context) === Object.prototype) Object.setPrototypeOf(context, proto);
    else
      for (const key of Object.keys(makers) as K[]) {
        Object.defineProperty(context, key, Object.getOwnPropertyDescriptor(proto, key)!);
      }
  };
}
