import type { AuditLog } from '../audit';

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

/** The part of a pino/Fastify logger that purge reports need. */
export interface EventLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Sends each security event to the audit log, whose `event` field names it. */
export function auditSecurityEvents(audit: AuditLog): SecurityEventSink {
  return ({ event, ...fields }) => audit(event, fields);
}
