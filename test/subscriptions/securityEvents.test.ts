import { SecurityEventsDocument } from '../../client/generated/graphql';
import {
  databaseUri,
  killApiProcesses,
  startApiProcess,
  type ApiProcess,
} from '../helpers/apiProcess';
import {
  GOOD_PASSWORD,
  LOGIN,
  LOGOUT,
  REFRESH,
  registerUser,
  type AuthPayload,
  bodyPayload,
} from '../helpers/operations';
import {
  CHANGE_PASSWORD,
  DELETE_ACCOUNT,
  LOGOUT_ALL,
  REVOKE_SESSION,
  sessionIdOf,
} from '../helpers/sessions';
import { uniqueDbName } from '../helpers/testServer';
import { TestSocket } from '../helpers/webSocket';

jest.setTimeout(60_000);

const REVOCATION_DEADLINE_MS = 2000;
let api: ApiProcess;
const sockets: TestSocket[] = [];

async function login(email: string, userAgent = 'test-agent/1.0'): Promise<AuthPayload> {
  const response = await api.gql(
    LOGIN,
    { input: { email, password: GOOD_PASSWORD } },
    { headers: { 'user-agent': userAgent } },
  );
  if (!response.body.data) throw new Error(JSON.stringify(response.body.errors));
  return bodyPayload(response.body.data.login);
}

/** A socket of `session` subscribed to securityEvents as operation "events". */
async function subscribed(session: AuthPayload): Promise<TestSocket> {
  const socket = await TestSocket.withToken(api.url, session.accessToken);
  sockets.push(socket);
  expect(socket.acknowledged).toBe(true);
  socket.subscribe('events', SecurityEventsDocument);
  // The subscription is live once the server has answered a ping sent after it.
  socket.send({ type: 'ping' });
  await socket.waitFor((message) => message.type === 'pong');
  return socket;
}

async function eventOf(socket: TestSocket, index = 0): Promise<Record<string, unknown>> {
  const payload = await socket.nextOf('events', index);
  expect(payload?.errors).toBeUndefined();
  return payload!.data!.securityEvents as Record<string, unknown>;
}

async function expectRevokedSoon(socket: TestSocket, since: number): Promise<void> {
  expect(await socket.closedWithin(REVOCATION_DEADLINE_MS)).toEqual({
    code: 4401,
    reason: 'SESSION_REVOKED',
  });
  expect(Date.now() - since).toBeLessThan(REVOCATION_DEADLINE_MS);
}

beforeAll(async () => {
  // Strict reuse detection, so that a replay revokes at once.
  api = await startApiProcess({
    env: { MONGODB_URI: databaseUri(uniqueDbName()), REFRESH_REUSE_GRACE: '0' },
  });
});

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
});

afterAll(async () => {
  await api?.stop();
  await killApiProcesses();
});

describe('securityEvents', () => {
  it('delivers a sign-in on another device to its owner only', async () => {
    const ada = await registerUser(api);
    const bob = await registerUser(api);
    const adaSocket = await subscribed(ada);
    const bobSocket = await subscribed(bob);

    const other = await login(ada.user.email, 'OtherBrowser/2.0');

    expect(await eventOf(adaSocket)).toEqual({
      type: 'SIGNED_IN',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      sessionId: sessionIdOf(other.accessToken),
      ip: '127.0.0.1',
      userAgent: 'OtherBrowser/2.0',
      current: false,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bobSocket.of('events')).toEqual([]);
  });

  it('closes the socket of a session revoked by revokeSession, and tells the other sessions', async () => {
    const first = await registerUser(api);
    const second = await login(first.user.email);
    const staying = await subscribed(first);
    const leaving = await subscribed(second);

    const started = Date.now();
    const response = await api.gql(
      REVOKE_SESSION,
      { id: sessionIdOf(second.accessToken) },
      { token: first.accessToken },
    );
    expect(response.body.data).toEqual({ revokeSession: true });

    await expectRevokedSoon(leaving, started);
    expect(await eventOf(staying)).toMatchObject({
      type: 'SESSION_REVOKED',
      sessionId: sessionIdOf(second.accessToken),
      current: false,
    });
    expect(staying.isClosed).toBe(false);
  });

  it('closes the socket on logout with its refresh token', async () => {
    const session = await registerUser(api);
    const socket = await subscribed(session);
    const started = Date.now();
    await api.gql(LOGOUT, { refreshToken: session.refreshToken });
    await expectRevokedSoon(socket, started);
    expect(socket.of('events')[0]?.payload?.data?.securityEvents).toMatchObject({
      type: 'SESSION_REVOKED',
      current: true,
    });
  });

  it('closes every socket of the user on logoutAll', async () => {
    const first = await registerUser(api);
    const second = await login(first.user.email);
    const sockets = [await subscribed(first), await subscribed(second)];
    const started = Date.now();
    await api.gql(LOGOUT_ALL, {}, { token: first.accessToken });
    await Promise.all(sockets.map((socket) => expectRevokedSoon(socket, started)));
    expect(sockets[1]!.of('events')[0]?.payload?.data?.securityEvents).toMatchObject({
      type: 'ALL_SESSIONS_REVOKED',
      current: true,
    });
  });

  it('closes the old sessions on changePassword, and the new session can subscribe', async () => {
    const session = await registerUser(api);
    const socket = await subscribed(session);
    const started = Date.now();
    const response = await api.gql(
      CHANGE_PASSWORD,
      { currentPassword: GOOD_PASSWORD, newPassword: 'another good passphrase 42' },
      { token: session.accessToken },
    );
    expect(response.body.errors).toBeUndefined();
    await expectRevokedSoon(socket, started);
    expect(socket.of('events')[0]?.payload?.data?.securityEvents).toMatchObject({
      type: 'PASSWORD_CHANGED',
      current: true,
    });
    const fresh = await subscribed(bodyPayload(response.body.data!.changePassword));
    expect(fresh.isClosed).toBe(false);
  });

  it('closes the socket on deleteAccount', async () => {
    const session = await registerUser(api);
    const socket = await subscribed(session);
    const started = Date.now();
    const response = await api.gql(
      DELETE_ACCOUNT,
      { password: GOOD_PASSWORD },
      { token: session.accessToken },
    );
    expect(response.body.data).toEqual({ deleteAccount: true });
    await expectRevokedSoon(socket, started);
  });

  it('closes the socket when refresh-token reuse revokes its session', async () => {
    const session = await registerUser(api);
    const other = await login(session.user.email);
    const watcher = await subscribed(other);
    const socket = await subscribed(session);
    const rotated = await api.gql(REFRESH, { refreshToken: session.refreshToken });
    expect(rotated.body.errors).toBeUndefined();

    const started = Date.now();
    await api.gql(REFRESH, { refreshToken: session.refreshToken });

    await expectRevokedSoon(socket, started);
    expect(await eventOf(watcher)).toMatchObject({
      type: 'REFRESH_TOKEN_REUSED',
      sessionId: sessionIdOf(session.accessToken),
      ip: '127.0.0.1',
      current: false,
    });
  });

  it('ends the subscription when the client completes it, and the socket stays usable', async () => {
    const session = await registerUser(api);
    const socket = await subscribed(session);
    socket.send({ id: 'events', type: 'complete' });
    socket.subscribe('again', SecurityEventsDocument);
    socket.send({ type: 'ping' });
    await socket.waitFor((message) => message.type === 'pong');
    await login(session.user.email);
    await socket.nextOf('again');
    expect(socket.of('events').filter((message) => message.type === 'next')).toEqual([]);
  });
});

describe('access token expiry', () => {
  let shortLived: ApiProcess;

  beforeAll(async () => {
    shortLived = await startApiProcess({
      env: { MONGODB_URI: databaseUri(uniqueDbName()), ACCESS_TOKEN_TTL: '2s' },
    });
  });

  afterAll(async () => {
    await shortLived?.stop();
  });

  it('closes the socket with 4401 TOKEN_EXPIRED when the access token expires', async () => {
    const session = await registerUser(shortLived);
    const issued = Date.now();
    const socket = await TestSocket.withToken(shortLived.url, session.accessToken);
    sockets.push(socket);
    expect(socket.acknowledged).toBe(true);
    socket.subscribe('events', SecurityEventsDocument);

    expect(await socket.closedWithin(4000)).toEqual({ code: 4401, reason: 'TOKEN_EXPIRED' });
    // Whole-second `exp`: between one and two seconds after issue, never before.
    expect(Date.now() - issued).toBeGreaterThanOrEqual(900);
  });
});
