import type { Models } from '../db/database';
import type { EventLogger } from '../logging/logger';
import type { RevokedSessionList } from './revokedSessions';

/** What one purge removed. */
export interface PurgeResult {
  /** Refresh-token documents deleted. */
  readonly tokens: number;
  /** Users whose list of revoked sessions was tidied. */
  readonly users: number;
}

/**
 * Deletes refresh tokens nobody can use any more, on a schedule. MongoDB TTL indexes would do
 * this, but FerretDB has none, so the server purges by itself. Expiry is enforced in queries
 * anyway; the purge only keeps the collection small.
 */
export interface TokenPurge {
  /** Purges once, as of `now`. */
  run(now?: Date): Promise<PurgeResult>;
  /** Purges every interval from now on; the timer never keeps the process alive. */
  start(): void;
  /** Stops the schedule and waits for a purge in progress. */
  stop(): Promise<void>;
}

export interface TokenPurgeOptions {
  readonly models: Models;
  readonly revokedSessions: RevokedSessionList;
  readonly logger: EventLogger;
  /** Time between purges, default 10 minutes. */
  readonly intervalMs?: number;
}

/** How long a revoked token is kept, default 1 hour. */
export const REVOKED_TOKEN_RETENTION_MS = 60 * 60 * 1000;
const DEFAULT_INTERVAL_MS = 10 * 60 * 1000;

// Used-but-unexpired tokens are kept: presenting one again is how reuse is detected. Revoked
// tokens are kept for a while too, because a rotation in flight re-checks its family for revoked
// tokens to notice a revocation that raced with it.
function purgeFilter(now: Date) {
  return {
    $or: [
      { expiresAt: { $lte: now } },
      { revokedAt: { $lte: new Date(now.getTime() - REVOKED_TOKEN_RETENTION_MS) } },
    ],
  };
}

/**
 * Builds the purge. Several server instances may run it against one database at once: every step
 * is an idempotent delete or an exact-value pull, and each instance jitters its schedule.
 */
export function createTokenPurge(options: TokenPurgeOptions): TokenPurge {
  const { models, revokedSessions, logger } = options;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let started = false;

  async function run(now = new Date()): Promise<PurgeResult> {
    const { deletedCount } = await models.RefreshToken.deleteMany(purgeFilter(now));
    const users = await revokedSessions.prune(now);
    return { tokens: deletedCount, users };
  }

  function schedule(): void {
    // ±10 % jitter keeps instances started together from purging in lockstep.
    const delay = Math.round(intervalMs * (0.9 + Math.random() * 0.2));
    timer = setTimeout(tick, delay);
    timer.unref();
  }

  function tick(): void {
    running = run()
      .then((result) => {
        if (result.tokens > 0 || result.users > 0) {
          logger.info({ event: 'refresh_tokens_purged', ...result }, 'refresh_tokens_purged');
        }
      })
      .catch((error: unknown) => {
        logger.warn(
          { event: 'refresh_token_purge_failed', err: error },
          'refresh_token_purge_failed',
        );
      })
      .finally(() => {
        running = undefined;
        if (started) schedule();
      });
  }

  return {
    run,
    start() {
      if (started) return;
      started = true;
      schedule();
    },
    async stop() {
      started = false;
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
