import type { AuditEvent, AuditFields, AuditLog } from '../logging/audit';
import type { EventBus } from './eventBus';
import type { NoticeKind, SecurityNotice } from './securityEvents';

// Audit events that subscribers hear of. The audit log is written at exactly the points where
// these things have happened (docs/operations.md, "Audit events"), after the database changed.
const KIND_OF: Partial<Record<AuditEvent, NoticeKind>> = {
  login_succeeded: 'SIGNED_IN',
  session_revoked: 'SESSION_REVOKED',
  all_sessions_revoked: 'ALL_SESSIONS_REVOKED',
  password_changed: 'PASSWORD_CHANGED',
  refresh_token_reuse_detected: 'REFRESH_TOKEN_REUSED',
  roles_changed: 'ROLES_CHANGED',
  account_deleted: 'ACCOUNT_DELETED',
};

const text = (value: AuditFields[string]): string | null =>
  typeof value === 'string' && value !== '' ? value : null;

/** The notice an audit event amounts to, or null when subscribers do not hear of it. */
export function noticeFromAudit(event: AuditEvent, fields: AuditFields): SecurityNotice | null {
  const kind = KIND_OF[event];
  const userId = text(fields.userId);
  if (!kind || !userId) return null;
  return {
    kind,
    userId,
    at: new Date(),
    sessionId: text(fields.sessionId),
    ip: text(fields.ip),
    userAgent: text(fields.userAgent),
  };
}

/**
 * The audit log, plus a notice on `bus` for each event a subscriber hears of. The services
 * already write the audit log wherever a session starts or ends, so this is the one place that
 * turns those moments into live events.
 */
export function publishingAuditLog(audit: AuditLog, bus: EventBus): AuditLog {
  return (event, fields = {}, request) => {
    audit(event, fields, request);
    const notice = noticeFromAudit(event, fields);
    if (notice) bus.publish(notice);
  };
}
