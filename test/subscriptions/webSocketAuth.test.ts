import { SecurityEventsDocument } from '../../client/generated/graphql';
import {
  databaseUri,
  killApiProcesses,
  startApiProcess,
  type ApiProcess,
} from '../helpers/apiProcess';
import { registerUser } from '../helpers/operations';
import { uniqueDbName } from '../helpers/testServer';
import { accessTokenClaims, forgeAccessToken } from '../helpers/tokens';
import WebSocket from 'ws';
import { TestSocket } from '../helpers/webSocket';

jest.setTimeout(60_000);

let api: ApiProcess;
const sockets: TestSocket[] = [];

async function track(socket: Promise<TestSocket>): Promise<TestSocket> {
  const opened = await socket;
  sockets.push(opened);
  return opened;
}

beforeAll(async () => {
  api = await startApiProcess({
    env: {
      MONGODB_URI: databaseUri(uniqueDbName()),
      CORS_ORIGINS: 'https://app.example.com',
      SUBSCRIPTION_MAX_CONNECTIONS_PER_USER: '3',
      SUBSCRIPTION_MAX_PAYLOAD: '4096',
      SUBSCRIPTION_INIT_TIMEOUT: '1s',
      GRAPHQL_MAX_DEPTH: '3',
    },
  });
});

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
});

afterAll(async () => {
  await api?.stop();
  await killApiProcesses();
});

describe('connection_init authentication', () => {
  it('closes with 4401 INVALID_TOKEN for a token with a bad signature', async () => {
    const token = forgeAccessToken(accessTokenClaims(), {
      secret: 'not-the-secret-0123456789abcdef0123',
    });
    const socket = await track(TestSocket.withToken(api.url, token));
    expect(await socket.closedWithin(2000)).toEqual({ code: 4401, reason: 'INVALID_TOKEN' });
    expect(socket.acknowledged).toBe(false);
  });

  it('closes with 4401 INVALID_TOKEN for garbage, an empty bearer and a non-string value', async () => {
    for (const payload of [
      { authorization: 'Bearer not-a-jwt' },
      { authorization: 'Bearer ' },
      { authorization: 42 },
    ]) {
      const socket = await track(TestSocket.connect(api.url, payload));
      expect(await socket.closedWithin(2000)).toEqual({ code: 4401, reason: 'INVALID_TOKEN' });
    }
  });

  it('closes with 4401 TOKEN_EXPIRED for an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = forgeAccessToken(accessTokenClaims({ iat: now - 120, exp: now - 60 }));
    const socket = await track(TestSocket.withToken(api.url, token));
    expect(await socket.closedWithin(2000)).toEqual({ code: 4401, reason: 'TOKEN_EXPIRED' });
  });

  it('accepts the key in any case and acknowledges a valid token', async () => {
    const { accessToken } = await registerUser(api);
    const socket = await track(
      TestSocket.connect(api.url, { AUTHORIZATION: `Bearer ${accessToken}` }),
    );
    expect(socket.acknowledged).toBe(true);
  });

  it('acknowledges an anonymous connection, whose guarded subscription fails with MISSING_TOKEN', async () => {
    const socket = await track(TestSocket.connect(api.url));
    expect(socket.acknowledged).toBe(true);
    socket.subscribe('1', SecurityEventsDocument);
    const payload = await socket.nextOf('1');
    expect(payload?.data ?? null).toBeNull();
    expect(payload?.errors?.[0]?.extensions).toEqual({
      code: 'UNAUTHENTICATED',
      reason: 'MISSING_TOKEN',
    });
    await socket.waitFor((message) => message.id === '1' && message.type === 'complete');
    expect(socket.isClosed).toBe(false);
  });

  it('closes with 4401 SESSION_REVOKED for a valid token of a revoked session', async () => {
    const session = await registerUser(api);
    await api.gql('mutation { logoutAll }', {}, { token: session.accessToken });
    const socket = await track(TestSocket.withToken(api.url, session.accessToken));
    expect(await socket.closedWithin(2000)).toEqual({ code: 4401, reason: 'SESSION_REVOKED' });
  });
});

describe('the upgrade request', () => {
  it('is refused for an Origin that CORS_ORIGINS does not allow', async () => {
    const socket = TestSocket.open(api.url, { origin: 'https://evil.example.net' });
    sockets.push(socket);
    await expect(socket.opened).rejects.toThrow('upgrade refused: 403');
  });

  it('is accepted from an allowed Origin and without one', async () => {
    const allowed = await track(
      TestSocket.connect(api.url, undefined, { origin: 'https://app.example.com' }),
    );
    const none = await track(TestSocket.connect(api.url));
    expect([allowed.acknowledged, none.acknowledged]).toEqual([true, true]);
  });

  it('is refused on another path', async () => {
    const ws = new WebSocket(`${api.url.replace(/^http/, 'ws')}/elsewhere`, 'graphql-transport-ws');
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once('unexpected-response', (_request, response) => resolve(response.statusCode));
      ws.once('error', () => resolve(undefined));
    });
    ws.terminate();
    expect(status).toBe(404);
  });
});

describe('limits', () => {
  it('closes a socket that sends no connection_init in time', async () => {
    const socket = TestSocket.open(api.url);
    sockets.push(socket);
    await socket.opened;
    expect(await socket.closedWithin(3000)).toEqual({
      code: 4408,
      reason: 'Connection initialisation timeout',
    });
  });

  it('closes a socket that sends a message over SUBSCRIPTION_MAX_PAYLOAD', async () => {
    const socket = await track(TestSocket.connect(api.url));
    socket.send({
      id: '1',
      type: 'subscribe',
      payload: { query: `# ${'x'.repeat(5000)}\n{ __typename }` },
    });
    expect((await socket.closedWithin(2000)).code).toBe(1009);
  });

  it('refuses a document over the depth limit and a query, with request errors', async () => {
    const socket = await track(TestSocket.connect(api.url));
    socket.subscribe('deep', 'subscription { securityEvents { type } } fragment F on User { id }');
    socket.subscribe('query', '{ __typename }');
    socket.subscribe('bad', 'subscription {');
    const errorOf = async (id: string) =>
      (await socket.waitFor((message) => message.id === id && message.type === 'error')).payload;
    expect((await errorOf('deep'))?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await errorOf('query'))?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect((await errorOf('bad'))?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(socket.isClosed).toBe(false);
  });

  it('caps the sockets of one user', async () => {
    const { accessToken } = await registerUser(api);
    const open = [];
    for (let i = 0; i < 3; i += 1)
      open.push(await track(TestSocket.withToken(api.url, accessToken)));
    expect(open.every((socket) => socket.acknowledged)).toBe(true);
    const extra = await track(TestSocket.withToken(api.url, accessToken));
    expect(await extra.closedWithin(2000)).toEqual({ code: 4429, reason: 'TOO_MANY_CONNECTIONS' });
    await open[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await track(TestSocket.withToken(api.url, accessToken))).acknowledged).toBe(true);
  });
});
