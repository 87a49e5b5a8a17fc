import { createPubSub, filter, pipe, Repeater } from 'graphql-yoga';
import type { Metrics } from '../metrics/metrics.ts';

export interface DocumentProcessedEvent {
  documentId: string;
  contactId: string | null;
  status: 'COMPLETED' | 'FAILED';
}

export interface ContactSubmittedEvent {
  contactId: string;
}

type Topics = {
  documentProcessed: [DocumentProcessedEvent];
  contactSubmitted: [ContactSubmittedEvent];
};

/** Redis's two connections (publish, subscribe) and the event target over them; loaded only when configured. */
async function redisEventTarget(redisUrl: string) {
  const [{ Redis }, { createRedisEventTarget }] = await Promise.all([
    import('ioredis'),
    import('@graphql-yoga/redis-event-target'),
  ]);
  const clients = [new Redis(redisUrl), new Redis(redisUrl)] as const;
  return {
    clients,
    eventTarget: createRedisEventTarget({ publishClient: clients[0], subscribeClient: clients[1] }),
  };
}

/** Typed pub/sub; Redis carries events between processes when configured, in-process otherwise. */
export async function createEvents(redisUrl: string | null, metrics: Metrics) {
  const redis = redisUrl ? await redisEventTarget(redisUrl) : null;
  const clients = redis?.clients ?? [];
  const pubsub = createPubSub<Topics>(redis ? { eventTarget: redis.eventTarget } : {});

  /** A subscription's events, counted in the active-subscriptions gauge while it is open. */
  function live<T>(source: AsyncIterable<T>, transport: string) {
    return new Repeater<T>(async (push, stop) => {
      metrics.subscriptionsActive.inc({ transport });
      const iterator = source[Symbol.asyncIterator]();
      stop.then(() => iterator.return?.());
      try {
        for (
          let next = await Promise.race([iterator.next(), stop]);
          next && !next.done;
          next = await Promise.race([iterator.next(), stop])
        ) {
          await push(next.value);
        }
      } finally {
        metrics.subscriptionsActive.dec({ transport });
        stop();
      }
    });
  }

  return {
    publishDocumentProcessed: (e: DocumentProcessedEvent) => pubsub.publish('documentProcessed', e),
    publishContactSubmitted: (e: ContactSubmittedEvent) => pubsub.publish('contactSubmitted', e),
    /** Processed documents matching the given ids (any when null). */
    documentProcessed: (match: { contactId: string | null; documentId: string | null }, transport: string) =>
      live(
        pipe(
          pubsub.subscribe('documentProcessed'),
          filter(
            (e: DocumentProcessedEvent) =>
              (!match.contactId || e.contactId === match.contactId) &&
              (!match.documentId || e.documentId === match.documentId),
          ),
        ),
        transport,
      ),
    /** Every contact submitted (and committed) from now on. */
    contactSubmitted: (transport: string) => live(pubsub.subscribe('contactSubmitted'), transport),
    async health(): Promise<'up' | 'down' | 'disabled'> {
      if (!clients[0]) return 'disabled';
      try {
        await clients[0].ping();
        return 'up';
      } catch {
        return 'down';
      }
    },
    async close() {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

export type Events = Awaited<ReturnType<typeof createEvents>>;
