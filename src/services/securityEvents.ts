/** Names of the security events; the stable `event` field of their log lines. */
export type SecurityEventName =
  | 'refresh_token_reuse_detected'
  | 'session_revoked'
  | 'all_sessions_revoked'
  | 'password_changed'
  | 'account_deleted';

/** One security-relevant happening. Never carries a token, a hash of one or a password. */
export interface SecurityEvent {
  readonly event: SecurityEventName;
  readonly userId: string;
  readonly sessionId?: string;
  /** How many sessions an operation ended. */
  readonly sessions?: number;
  /** Why a session ended, for example `reuse` or `logout`. */
  readonly reason?: string;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
}

/** Where services report security events. */
export type SecurityEventSink = (event: SecurityEvent) => void;

/** The part of a pino/Fastify logger the security events need. */
export interface EventLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

// Events that point at a possible attack; everything else is a user acting on their own account.
const WARNINGS = new Set<SecurityEventName>(['refresh_token_reuse_detected']);

/** Writes each security event as one structured log line whose `event` field names it. */
export function logSecurityEvents(logger: EventLogger): SecurityEventSink {
  return (event) => {
    if (WARNINGS.has(event.event)) logger.warn({ ...event }, event.event);
    else logger.info({ ...event }, event.event);
  };
}

/** Drops every event (scripts and tests that do not care). */
export const ignoreSecurityEvents: SecurityEventSink = () => undefined;
