import type { FastifyBaseLogger } from 'fastify';
import type { RequestScope } from './requestScope';

/**
 * Security events, written as log lines whose `event` field is one of these names. The names are
 * part of the operating contract: alerts and dashboards match on them.
 */
export const AUDIT_EVENTS = [
  'login_succeeded',
  'login_failed',
  'login_throttled',
  'refresh_token_reuse_detected',
  'session_revoked',
  'all_sessions_revoked',
  'password_changed',
  'account_deleted',
  'roles_changed',
  'password_reset',
  'email_verified',
] as const;

export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/**
 * What an event is about: ids, roles, an address, a reason. Never a password, a token or any
 * other secret.
 */
export type AuditFields = Readonly<
  Record<string, string | number | boolean | null | undefined | readonly string[]>
>;

/** Writes one audit line; `request` is the request it happened in, when there is one. */
export type AuditLog = (event: AuditEvent, fields?: AuditFields, request?: RequestScope) => void;

// Events that call for a human's attention even when nothing else is wrong.
const WARNING_EVENTS: ReadonlySet<AuditEvent> = new Set([
  'login_throttled',
  'refresh_token_reuse_detected',
]);

/** An audit log that writes nothing (tools and tests that do not care). */
export const silentAuditLog: AuditLog = () => undefined;

/**
 * Audit lines go through `logger` with `audit: true`, the stable `event` name, the request id and
 * the signed-in caller (`actorId`) when there is one. They are written at `info` (reuse and
 * throttling at `warn`) even when LOG_LEVEL is set higher, unless logging is off altogether.
 */
export function createAuditLog(logger: FastifyBaseLogger): AuditLog {
  const log = logger.child(
    { audit: true },
    { level: logger.level === 'silent' ? 'silent' : 'info' },
  );
  return (event, fields = {}, request) => {
    const line = { ...fields, event, reqId: request?.requestId, actorId: request?.actorId };
    if (WARNING_EVENTS.has(event)) log.warn(line, event);
    else log.info(line, event);
  };
}
