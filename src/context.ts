import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from './logger.ts';
import type { Services } from './services/index.ts';

export type Scope = 'READ' | 'WRITE' | 'ADMIN';

/** Who is calling: `authenticated` false means no (valid) credential; scopes say what it may do. */
export interface Viewer {
  authenticated: boolean;
  /** The actor recorded in notes and the audit log: "root" for ADMIN_TOKEN. */
  actor: string;
  kind: 'anonymous' | 'root' | 'api-token' | 'oidc';
  scopes: readonly Scope[];
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
