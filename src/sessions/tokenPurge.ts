import type { JwtConfig } from '../config';
import type { Models } from '../db/database';
import type { SessionFields } from '../db/models/Session';
import type { EventLogger } from '../logging/logger';
import { PREVIOUS_SECRETS_KEPT, secretId } from './refreshTokens';

/** What one purge removed. */
export interface PurgeResult {
  /** Session documents of sessions that ended on their own. */
  readonly sessions: number;
  /** Refresh-token secrets past their expiry (of live, ended and revoked sessions alike). */
  readonly secrets: number;
  /** Throttle hits and bucket states whose window has passed. */
  readonly throttle: number;
}

/**
 * Deletes what nobody can use any more, on a schedule (docs/data-model.md, "Expiry"). MongoDB TTL
 * indexes would do this, but FerretDB has none, so the server purges by itself. Expiry is enforced
 * on every request anyway; the purge only keeps the collections small. It is the one place that
 * filters on something other than `_id`, off the request path.
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
  /** How long access tokens live: a session document is kept while one of its tokens may. */
  readonly jwt: Pick<JwtConfig, 'accessTokenTtl' | 'clockToleranceSeconds'>;
  readonly logger: EventLogger;
  /** Time between purges, default 10 minutes. */
  readonly intervalMs?: number;
}

const DEFAULT_INTERVAL_MS = 10 * 60 * 1000;
// An access token signed in the instant its session's refresh token expired can outlive it by
// the token lifetime; the session document stays until then (plus a margin for clock skew),
// since guarded reads require it.
const SAFETY_MARGIN_MS = 60_000;
const SESSION_BATCH = 500;
const MAX_BATCHES_PER_RUN = 20;

/**
 * Builds the purge. Several server instances may run it against one database at once: every step
 * is an idempotent delete (or `$unset`) by `_id`, and each instance jitters its schedule.
 */
export function createTokenPurge(options: TokenPurgeOptions): TokenPurge {
  const { models, logger } = options;
  const { Session, RefreshSecret, User, RateLimitHit, RateLimitBucket, RecoveryToken } = models;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const keepMs =
    (options.jwt.accessTokenTtl + options.jwt.clockToleranceSeconds) * 1000 + SAFETY_MARGIN_MS;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let started = false;

  async function purgeSession(session: SessionFields): Promise<boolean> {
    const from = Math.max(0, session.generation - PREVIOUS_SECRETS_KEPT);
    const [deleted] = await Promise.all([
      Session.deleteOne({ _id: session._id }),
      User.updateOne({ _id: session.userId }, { $unset: { [`sessions.${session._id}`]: '' } }),
      ...Array.from({ length: session.generation + 2 - from }, (_unused, i) =>
        RefreshSecret.deleteOne({ _id: secretId(session._id, from + i) }),
      ),
    ]);
    return deleted.deletedCount === 1;
  }

  async function purgeSessions(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - keepMs);
    let purged = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch += 1) {
      const ended = await Session.find({ expiresAt: { $lte: cutoff } })
        .limit(SESSION_BATCH)
        .lean<SessionFields[]>();
      for (const session of ended) if (await purgeSession(session)) purged += 1;
      if (ended.length < SESSION_BATCH) break;
    }
    return purged;
  }

  async function run(now = new Date()): Promise<PurgeResult> {
    const sessions = await purgeSessions(now);
    const expired = { expiresAt: { $lte: now } };
    const [secrets, hits, buckets] = await Promise.all([
      RefreshSecret.deleteMany(expired),
      RateLimitHit.deleteMany(expired),
      RateLimitBucket.deleteMany(expired),
      // Mailed recovery tokens (docs/recovery.md); expiry is also checked when one is redeemed.
      RecoveryToken.deleteMany(expired),
    ]);
    return {
      sessions,
      secrets: secrets.deletedCount,
      throttle: hits.deletedCount + buckets.deletedCount,
    };
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
        if (result.sessions > 0 || result.secrets > 0 || result.throttle > 0) {
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
