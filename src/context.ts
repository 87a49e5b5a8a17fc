import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from './logger.ts';
import type { Services } from './services/index.ts';

export interface Viewer {
  staff: boolean;
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
