import { invalid, readDuration, readInt, type Env } from './readers';

/** GraphQL subscriptions over WebSocket (docs/subscriptions.md). */
export interface SubscriptionsConfig {
  /** SUBSCRIPTION_MAX_CONNECTIONS_PER_USER, default 20: open sockets per signed-in user. */
  readonly maxConnectionsPerUser: number;
  /** SUBSCRIPTION_MAX_CONNECTIONS_PER_IP, default 100: open sockets per client IP. */
  readonly maxConnectionsPerIp: number;
  /** SUBSCRIPTION_MAX_PAYLOAD, default 16384: largest WebSocket message from a client, in bytes. */
  readonly maxPayloadBytes: number;
  /** SUBSCRIPTION_INIT_TIMEOUT, default 3s: how long a socket may wait before `connection_init`, in ms. */
  readonly initTimeoutMs: number;
  /**
   * SUBSCRIPTION_SESSION_CHECK, default 30s: how often every open socket's session is checked
   * against the revocation list, in ms. Bounds how late a revocation made on another instance
   * closes a socket when no event reaches this one.
   */
  readonly sessionCheckIntervalMs: number;
  /** REDIS_URL: when set, security events cross instances through Redis pub/sub. */
  readonly redisUrl: string | undefined;
}

export function readSubscriptionsConfig(env: Env): SubscriptionsConfig {
  let redisUrl = env.REDIS_URL?.trim() || undefined;
  if (redisUrl && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    redisUrl = invalid('REDIS_URL', 'must start with redis:// or rediss://', undefined);
  }
  return {
    maxConnectionsPerUser: readInt(env, 'SUBSCRIPTION_MAX_CONNECTIONS_PER_USER', 20, 1, 100_000),
    maxConnectionsPerIp: readInt(env, 'SUBSCRIPTION_MAX_CONNECTIONS_PER_IP', 100, 1, 1_000_000),
    maxPayloadBytes: readInt(env, 'SUBSCRIPTION_MAX_PAYLOAD', 16 * 1024, 1024, 10 * 1024 * 1024),
    initTimeoutMs: readDuration(env, 'SUBSCRIPTION_INIT_TIMEOUT', '3s') * 1000,
    sessionCheckIntervalMs: readDuration(env, 'SUBSCRIPTION_SESSION_CHECK', '30s') * 1000,
    redisUrl,
  };
}
