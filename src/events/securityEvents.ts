/**
 * What the `securityEvents` subscription reports (docs/subscriptions.md). The names are the
 * `SecurityEventType` enum of the schema.
 */
export const SECURITY_EVENT_TYPES = [
  'SIGNED_IN',
  'SESSION_REVOKED',
  'ALL_SESSIONS_REVOKED',
  'PASSWORD_CHANGED',
  'REFRESH_TOKEN_REUSED',
  'ROLES_CHANGED',
] as const;

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/**
 * Everything the event bus carries: the security events, plus `ACCOUNT_DELETED`, which no
 * subscriber is shown (the account is gone) but which closes the account's sockets.
 */
export const NOTICE_KINDS = [...SECURITY_EVENT_TYPES, 'ACCOUNT_DELETED'] as const;

export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** One thing that happened to a user's account or sessions, as the bus carries it. */
export interface SecurityNotice {
  readonly kind: NoticeKind;
  readonly userId: string;
  readonly at: Date;
  /** The session concerned; null for events about the account or all of its sessions. */
  readonly sessionId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** One event as the `SecurityEvent` type shows it to its owner. */
export interface SecurityEventView {
  readonly type: SecurityEventType;
  readonly at: Date;
  readonly sessionId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** True when the event concerns the subscriber's own session (or every session of theirs). */
  readonly current: boolean;
}

// These end every session of the user, the subscriber's included.
const ALL_SESSIONS: ReadonlySet<NoticeKind> = new Set(['ALL_SESSIONS_REVOKED', 'PASSWORD_CHANGED']);

export function isSecurityEventType(kind: NoticeKind): kind is SecurityEventType {
  return kind !== 'ACCOUNT_DELETED';
}

/** The view of `notice` for a subscriber in session `sessionId`; null when it is not shown. */
export function viewFor(notice: SecurityNotice, sessionId: string): SecurityEventView | null {
  const { kind } = notice;
  if (!isSecurityEventType(kind)) return null;
  return {
    type: kind,
    at: notice.at,
    sessionId: notice.sessionId,
    ip: notice.ip,
    userAgent: notice.userAgent,
    current: ALL_SESSIONS.has(kind) || notice.sessionId === sessionId,
  };
}

/** Serialised form on the wire between instances. */
export function encodeNotice(notice: SecurityNotice, origin: string): string {
  return JSON.stringify({ ...notice, at: notice.at.toISOString(), origin });
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** Parses a notice from another instance; null for anything malformed (never trusted blindly). */
export function decodeNotice(raw: string): { notice: SecurityNotice; origin: string } | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const fields = value as Record<string, unknown>;
  const kind = NOTICE_KINDS.find((candidate) => candidate === fields.kind);
  const userId = text(fields.userId);
  const origin = text(fields.origin);
  const at = new Date(text(fields.at) ?? NaN);
  if (!kind || !userId || !origin || Number.isNaN(at.getTime())) return null;
  return {
    origin,
    notice: {
      kind,
      userId,
      at,
      sessionId: text(fields.sessionId),
      ip: text(fields.ip),
      userAgent: text(fields.userAgent),
    },
  };
}
