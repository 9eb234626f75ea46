import Fastify from 'fastify';
import { AUDIT_EVENTS, createAuditLog } from '../../src/logging/audit';
import { loggerOptions } from '../../src/logging/logger';
import { captureLogs, type LogLine } from '../helpers/logCapture';
import {
  GOOD_PASSWORD,
  LOGIN,
  LOGOUT,
  REFRESH,
  registerUser,
  uniqueEmail,
} from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

import { SetUserRolesDocument as SET_ROLES } from '../../client/generated/graphql';

describe('createAuditLog', () => {
  it('writes events at info even when LOG_LEVEL hides info lines', () => {
    const logs = captureLogs();
    const app = Fastify({ logger: loggerOptions('warn', logs.stream) });
    createAuditLog(app.log)('password_changed', { userId: 'u1' });
    app.log.info('not shown');
    expect(logs.lines()).toEqual([
      expect.objectContaining({ audit: true, event: 'password_changed', userId: 'u1', level: 30 }),
    ]);
  });

  it('writes nothing when logging is off', () => {
    const logs = captureLogs();
    const app = Fastify({ logger: loggerOptions('silent', logs.stream) });
    createAuditLog(app.log)('account_deleted', { userId: 'u1' });
    expect(logs.text()).toBe('');
  });
});

describe('audit events of the auth flows', () => {
  let api: TestServer;
  const logs = captureLogs();

  beforeAll(async () => {
    // Strict reuse detection, so that a replay is reported at once.
    api = await startTestServer({ logStream: logs.stream, env: { REFRESH_REUSE_GRACE: '0' } });
  });

  afterAll(async () => {
    await api.close();
  });

  /** The audit lines written while serving the request that got `response`. */
  function auditLinesOf(response: { headers: Headers }): LogLine[] {
    const reqId = response.headers.get('x-request-id');
    return logs.lines().filter((line) => line.audit === true && line.reqId === reqId);
  }

  it('writes login_failed with the user id, and never the password, for a wrong password', async () => {
    const user = await registerUser(api);
    const response = await api.gql(LOGIN, {
      input: { email: user.user.email, password: 'not-the-password-123' },
    });
    expect(auditLinesOf(response)).toEqual([
      expect.objectContaining({ event: 'login_failed', userId: user.user.id, ip: '127.0.0.1' }),
    ]);
    expect(logs.text()).not.toContain('not-the-password-123');
  });

  it('writes login_failed with the address for an unknown email', async () => {
    const email = uniqueEmail('ghost');
    const response = await api.gql(LOGIN, { input: { email, password: GOOD_PASSWORD } });
    const [line] = auditLinesOf(response);
    expect(line).toMatchObject({ event: 'login_failed', email });
    expect(line).not.toHaveProperty('userId');
  });

  it('leaves out an "email" that is no address: it may be a password typed in the wrong box', async () => {
    const response = await api.gql(LOGIN, {
      input: { email: 'Tr0ub4dor&3', password: GOOD_PASSWORD },
    });
    const [line] = auditLinesOf(response);
    expect(line).toMatchObject({ event: 'login_failed' });
    expect(logs.text().toLowerCase()).not.toContain('tr0ub4dor');
  });

  it('writes login_succeeded with the session id', async () => {
    const user = await registerUser(api);
    const response = await api.gql(LOGIN, {
      input: { email: user.user.email, password: GOOD_PASSWORD },
    });
    expect(response.body.data?.login).toBeTruthy();
    expect(auditLinesOf(response)).toEqual([
      expect.objectContaining({
        event: 'login_succeeded',
        userId: user.user.id,
        sessionId: expect.any(String) as unknown,
      }),
    ]);
  });

  it('writes refresh_token_reuse_detected when a rotated refresh token comes back', async () => {
    const user = await registerUser(api);
    await api.gql(REFRESH, { refreshToken: user.refreshToken });
    const replay = await api.gql(REFRESH, { refreshToken: user.refreshToken });
    expect(replay.body.errors?.[0]?.extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
    expect(auditLinesOf(replay)).toEqual([
      expect.objectContaining({
        event: 'refresh_token_reuse_detected',
        userId: user.user.id,
        level: 40,
      }),
    ]);
  });

  it('writes session_revoked on logout', async () => {
    const user = await registerUser(api);
    const response = await api.gql(LOGOUT, { refreshToken: user.refreshToken });
    expect(auditLinesOf(response)).toEqual([
      expect.objectContaining({ event: 'session_revoked', userId: user.user.id, reason: 'logout' }),
    ]);
  });

  it('writes roles_changed naming the administrator who did it', async () => {
    const admin = await registerUser(api);
    await api.database.models.User.updateOne({ _id: admin.user.id }, { roles: ['USER', 'ADMIN'] });
    const login = await api.gql(LOGIN, {
      input: { email: admin.user.email, password: GOOD_PASSWORD },
    });
    const target = await registerUser(api);
    const response = await api.gql(
      SET_ROLES,
      { userId: target.user.id, roles: ['ADMIN'] },
      { token: login.body.data!.login.accessToken },
    );
    expect(auditLinesOf(response)).toEqual([
      expect.objectContaining({
        event: 'roles_changed',
        userId: target.user.id,
        actorId: admin.user.id,
        roles: ['ADMIN'],
        previousRoles: ['USER'],
      }),
    ]);
  });

  it('uses only the documented event names and never writes a token', () => {
    const audit = logs.lines().filter((line) => line.audit === true);
    expect(audit.length).toBeGreaterThan(0);
    for (const line of audit) expect(AUDIT_EVENTS).toContain(line.event);
    expect(logs.text()).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });
});
