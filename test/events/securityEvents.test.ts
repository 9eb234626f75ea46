import { noticeFromAudit, publishingAuditLog } from '../../src/events/auditEvents';
import { createMemoryEventBus } from '../../src/events/eventBus';
import {
  decodeNotice,
  encodeNotice,
  viewFor,
  type SecurityNotice,
} from '../../src/events/securityEvents';
import type { AuditEvent } from '../../src/logging/audit';

const notice: SecurityNotice = {
  kind: 'SESSION_REVOKED',
  userId: 'user-1',
  at: new Date('2026-01-31T12:00:00.000Z'),
  sessionId: 'session-2',
  ip: '203.0.113.7',
  userAgent: 'Phone/1.0',
};

describe('noticeFromAudit', () => {
  it.each<[AuditEvent, string | null]>([
    ['login_succeeded', 'SIGNED_IN'],
    ['session_revoked', 'SESSION_REVOKED'],
    ['all_sessions_revoked', 'ALL_SESSIONS_REVOKED'],
    ['password_changed', 'PASSWORD_CHANGED'],
    ['refresh_token_reuse_detected', 'REFRESH_TOKEN_REUSED'],
    ['roles_changed', 'ROLES_CHANGED'],
    ['account_deleted', 'ACCOUNT_DELETED'],
    ['login_failed', null],
    ['login_throttled', null],
  ])('turns %s into %s', (event, kind) => {
    expect(noticeFromAudit(event, { userId: 'user-1' })?.kind ?? null).toBe(kind);
  });

  it('needs a user: an event about an email alone concerns no subscriber', () => {
    expect(noticeFromAudit('login_succeeded', { email: 'a@example.com' })).toBeNull();
  });
});

describe('publishingAuditLog', () => {
  it('writes the audit line and publishes the notice to the user only', () => {
    const bus = createMemoryEventBus();
    const lines: string[] = [];
    const mine: SecurityNotice[] = [];
    const others: SecurityNotice[] = [];
    bus.listenTo('user-1', (received) => mine.push(received));
    bus.listenTo('user-2', (received) => others.push(received));
    const audit = publishingAuditLog((event) => lines.push(event), bus);

    audit('login_succeeded', {
      userId: 'user-1',
      sessionId: 's',
      ip: '127.0.0.1',
      userAgent: 'UA',
    });

    expect(lines).toEqual(['login_succeeded']);
    expect(mine).toEqual([
      expect.objectContaining({
        kind: 'SIGNED_IN',
        sessionId: 's',
        ip: '127.0.0.1',
        userAgent: 'UA',
      }),
    ]);
    expect(others).toEqual([]);
  });

  it('keeps delivering to the others when one listener throws', () => {
    const failures: unknown[] = [];
    const bus = createMemoryEventBus((error) => failures.push(error));
    const received: string[] = [];
    bus.listenTo('user-1', () => {
      throw new Error('broken listener');
    });
    bus.listenTo('user-1', (event) => received.push(event.kind));
    bus.publish(notice);
    expect(received).toEqual(['SESSION_REVOKED']);
    expect(failures).toHaveLength(1);
  });
});

describe('viewFor', () => {
  it('marks the subscriber’s own session as current', () => {
    expect(viewFor(notice, 'session-2')).toMatchObject({ type: 'SESSION_REVOKED', current: true });
    expect(viewFor(notice, 'session-1')).toMatchObject({ current: false });
  });

  it('marks events about every session as current', () => {
    const all = { ...notice, kind: 'ALL_SESSIONS_REVOKED' as const, sessionId: null };
    expect(viewFor(all, 'session-1')?.current).toBe(true);
  });

  it('shows no one ACCOUNT_DELETED', () => {
    expect(viewFor({ ...notice, kind: 'ACCOUNT_DELETED' }, 'session-2')).toBeNull();
  });
});

describe('the wire format between instances', () => {
  it('round-trips a notice with its origin', () => {
    expect(decodeNotice(encodeNotice(notice, 'instance-a'))).toEqual({
      notice,
      origin: 'instance-a',
    });
  });

  it.each([
    'not json',
    '"a string"',
    JSON.stringify({ kind: 'SIGNED_IN', userId: 'u', at: 'yesterday', origin: 'x' }),
    JSON.stringify({ kind: 'EVERYTHING_IS_FINE', userId: 'u', at: notice.at, origin: 'x' }),
    JSON.stringify({ kind: 'SIGNED_IN', at: notice.at, origin: 'x' }),
  ])('ignores a malformed message: %s', (raw) => {
    expect(decodeNotice(raw)).toBeNull();
  });
});
