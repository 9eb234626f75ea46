import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { EventLogger } from '../logging/logger';
import { LocalFanOut, type EventBus } from './eventBus';
import { decodeNotice, encodeNotice } from './securityEvents';

/** The one channel every instance publishes to and listens on. */
export const SECURITY_EVENTS_CHANNEL = 'graphql-jwt-auth:security-events';

export interface RedisEventBusOptions {
  readonly url: string;
  readonly logger: EventLogger;
}

// Reconnect quickly at first, then every 2 s at most, for as long as it takes: Redis coming back
// must heal the bus without a restart (docs/subscriptions.md, "Redis").
const retryStrategy = (attempt: number): number => Math.min(attempt * 200, 2000);

/**
 * Security events through Redis pub/sub, so a sign-in on one instance reaches a subscriber on
 * another. Two connections, because a subscribed Redis connection can do nothing but listen.
 * Notices are delivered here directly and marked with this instance's id, so an instance ignores
 * its own echo and its sockets hear of a revocation even while Redis is down.
 */
export function createRedisEventBus(options: RedisEventBusOptions): EventBus {
  const { logger } = options;
  const origin = randomUUID();
  const fanOut = new LocalFanOut((error) =>
    logger.warn(
      { event: 'security_event_listener_failed', err: error },
      'security_event_listener_failed',
    ),
  );
  const publisher = new Redis(options.url, {
    retryStrategy,
    // Fail a publish at once while Redis is away: the flow that caused it must not wait.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectionName: 'graphql-jwt-auth:publisher',
  });
  const subscriber = new Redis(options.url, {
    retryStrategy,
    // Subscribed below on every 'ready': ioredis's own resubscription is sent after it reports
    // ready, so 'ready' alone would claim events flow before they do.
    autoResubscribe: false,
    maxRetriesPerRequest: null,
    connectionName: 'graphql-jwt-auth:subscriber',
  });

  // True once the subscriber's SUBSCRIBE of this connection was acknowledged.
  let subscribed = false;
  const isReady = (): boolean => subscribed && publisher.status === 'ready';

  // One line per change of state, not one per failed reconnection attempt.
  let reachable: boolean | undefined;
  const report = (): void => {
    const now = isReady();
    if (now === reachable) return;
    if (now) logger.info({ event: 'redis_reachable' }, 'redis reachable');
    else if (reachable !== undefined)
      logger.warn({ event: 'redis_unreachable' }, 'redis unreachable');
    reachable = now;
  };
  subscriber.on('close', () => {
    subscribed = false;
  });
  subscriber.on('ready', () => {
    subscriber.subscribe(SECURITY_EVENTS_CHANNEL).then(
      () => {
        subscribed = subscriber.status === 'ready';
        report();
      },
      (error: unknown) => {
        logger.warn({ event: 'redis_subscribe_failed', err: error }, 'redis subscribe failed');
      },
    );
  });
  for (const connection of [publisher, subscriber]) {
    connection.on('ready', report);
    connection.on('close', report);
    // ioredis reports every failed attempt as an error event; the state change above is enough.
    connection.on('error', () => report());
  }

  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== SECURITY_EVENTS_CHANNEL) return;
    const decoded = decodeNotice(message);
    if (!decoded || decoded.origin === origin) return;
    fanOut.deliver(decoded.notice);
  });

  return {
    publish(notice) {
      fanOut.deliver(notice);
      publisher.publish(SECURITY_EVENTS_CHANNEL, encodeNotice(notice, origin)).catch(() => {
        // Other instances miss this one; their periodic session check still closes revoked
        // sockets (docs/subscriptions.md, "Several instances").
        logger.warn(
          { event: 'security_event_not_published', kind: notice.kind },
          'security event not published: redis unreachable',
        );
      });
    },
    listenTo: (userId, listener) => fanOut.listenTo(userId, listener),
    listenAll: (listener) => fanOut.listenAll(listener),
    available: isReady,
    health: () => ({ kind: 'redis', ready: isReady() }),
    async close() {
      // disconnect() rather than quit(): quit waits for a reply a dead Redis never sends.
      publisher.disconnect();
      subscriber.disconnect();
      await Promise.resolve();
    },
  };
}
