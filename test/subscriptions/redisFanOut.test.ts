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
  ME,
  registerUser,
  type AuthPayload,
  bodyPayload,
} from '../helpers/operations';
import {
  hasRedisServer,
  REDIS_SERVER,
  startRedisServer,
  type RedisServer,
} from '../helpers/redisServer';
import { REVOKE_SESSION, sessionIdOf } from '../helpers/sessions';
import { uniqueDbName } from '../helpers/testServer';
import { TestSocket, type ServerMessage } from '../helpers/webSocket';

// Two API processes, a Redis stopped and started again: seconds each on a busy machine.
jest.setTimeout(90_000);

const sockets: TestSocket[] = [];

async function login(api: ApiProcess, email: string): Promise<AuthPayload> {
  const response = await api.gql(LOGIN, { input: { email, password: GOOD_PASSWORD } });
  if (!response.body.data) throw new Error(JSON.stringify(response.body.errors));
  return bodyPayload(response.body.data.login);
}

async function subscribed(
  api: ApiProcess,
  session: AuthPayload,
  id = 'events',
): Promise<TestSocket> {
  const socket = await TestSocket.withToken(api.url, session.accessToken);
  sockets.push(socket);
  expect(socket.acknowledged).toBe(true);
  socket.subscribe(id, SecurityEventsDocument);
  socket.send({ type: 'ping' });
  await socket.waitFor((message) => message.type === 'pong');
  return socket;
}

const nextCount = (socket: TestSocket, id = 'events'): number =>
  socket.of(id).filter((message) => message.type === 'next').length;

/**
 * A subscription that is known to be live. graphql-ws acknowledges no subscribe, and the server
 * checks the session before it listens, so the test signs in on the same instance until the
 * socket hears of it.
 */
async function listening(api: ApiProcess, session: AuthPayload): Promise<TestSocket> {
  const socket = await subscribed(api, session);
  await waitUntil(async () => {
    if (socket.of('events').some((message) => message.type !== 'next')) {
      throw new Error(`subscription ended: ${JSON.stringify(socket.of('events'))}`);
    }
    await login(api, session.user.email);
    await new Promise((resolve) => setTimeout(resolve, 300));
    return nextCount(socket) > 0;
  }, 'the subscription is live');
  return socket;
}

async function ready(api: ApiProcess): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${api.url}/ready`);
  return { status: response.status, body: await response.json() };
}

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
});

afterAll(() => killApiProcesses());

// CI installs redis-server and must run this suite; elsewhere a missing one skips it.
const redisRequired = process.env.CI === 'true';
const describeWithRedis = hasRedisServer() || redisRequired ? describe : describe.skip;
if (!hasRedisServer() && !redisRequired) {
  process.stderr.write(
    `\nSkipping the Redis tests: ${REDIS_SERVER} is missing (apt-get install -y redis-server).\n`,
  );
}

describeWithRedis('two API instances with REDIS_URL', () => {
  let redis: RedisServer;
  let east: ApiProcess;
  let west: ApiProcess;

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = { MONGODB_URI: databaseUri(uniqueDbName()), REDIS_URL: redis.url };
    [east, west] = await Promise.all([startApiProcess({ env }), startApiProcess({ env })]);
    await waitUntil(
      async () =>
        (await ready(east)).body !== null &&
        JSON.stringify((await ready(east)).body).includes('"redis":"ready"'),
      'east reports Redis ready',
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all([east?.stop(), west?.stop()]);
    await redis?.dispose();
  });

  it('report Redis in /ready', async () => {
    await waitUntil(async () => (await ready(west)).status === 200, 'west is ready');
    expect(await ready(east)).toEqual({ status: 200, body: { status: 'ready', redis: 'ready' } });
    expect(await ready(west)).toEqual({ status: 200, body: { status: 'ready', redis: 'ready' } });
  });

  it('deliver a sign-in on one instance to the owner subscribed on the other, and to nobody else', async () => {
    const ada = await registerUser(east);
    const bob = await registerUser(east);
    const adaOnEast = await listening(east, ada);
    const bobOnWest = await subscribed(west, bob);
    const bobOnEast = await subscribed(east, bob);

    const other = await login(west, ada.user.email);

    const otherSession = sessionIdOf(other.accessToken);
    const signedIn = (message: ServerMessage): boolean =>
      message.id === 'events' &&
      (message.payload?.data?.securityEvents as { sessionId?: string } | undefined)?.sessionId ===
        otherSession;
    await adaOnEast.waitFor(signedIn, 2000);
    expect(adaOnEast.messages.find(signedIn)?.payload?.data?.securityEvents).toMatchObject({
      type: 'SIGNED_IN',
      sessionId: sessionIdOf(other.accessToken),
      current: false,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([bobOnWest.of('events'), bobOnEast.of('events')]).toEqual([[], []]);
  });

  it('close a socket on one instance within 2 s of its session being revoked on the other', async () => {
    const first = await registerUser(east);
    const second = await login(east, first.user.email);
    const socket = await subscribed(east, second);
    const started = Date.now();
    await west.gql(
      REVOKE_SESSION,
      { id: sessionIdOf(second.accessToken) },
      { token: first.accessToken },
    );
    expect(await socket.closedWithin(2000)).toEqual({ code: 4401, reason: 'SESSION_REVOKED' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('degrade while Redis is down: new subscriptions fail clearly, HTTP keeps working, and all heals when it is back', async () => {
    const ada = await registerUser(east);
    const before = await listening(east, ada);

    await redis.stop();
    await waitUntil(
      async () => JSON.stringify((await ready(east)).body).includes('"redis":"unavailable"'),
      'east reports Redis unavailable',
    );
    expect(await ready(east)).toEqual({
      status: 200,
      body: { status: 'ready', redis: 'unavailable' },
    });

    const refused = await subscribed(east, ada, 'refused');
    const payload = await refused.nextOf('refused');
    expect(payload?.errors?.[0]?.extensions).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      reason: 'EVENTS_UNAVAILABLE',
    });

    // HTTP does not need Redis: sign-in, reads and revocation work, and the revoking instance
    // still closes its own sockets at once.
    const second = await login(east, ada.user.email);
    expect((await east.gql(ME, {}, { token: second.accessToken })).body.errors).toBeUndefined();
    const doomed = await subscribed(east, second, 'doomed');
    await east.gql(
      REVOKE_SESSION,
      { id: sessionIdOf(second.accessToken) },
      { token: ada.accessToken },
    );
    expect(await doomed.closedWithin(2000)).toEqual({ code: 4401, reason: 'SESSION_REVOKED' });

    await redis.start();
    await waitUntil(
      async () =>
        JSON.stringify((await ready(east)).body).includes('"redis":"ready"') &&
        JSON.stringify((await ready(west)).body).includes('"redis":"ready"'),
      'both report Redis ready again',
    );
    const eventsBefore = before.of('events').length;
    // Events are not queued across an outage (docs/subscriptions.md): a sign-in published while a
    // connection is still coming back may be missed, so the test signs in until one arrives.
    try {
      await waitUntil(
        async () => {
          await login(west, ada.user.email);
          await new Promise((resolve) => setTimeout(resolve, 700));
          return before.of('events').length > eventsBefore;
        },
        'a sign-in on west reaches the subscriber on east again',
        30_000,
      );
    } catch (error) {
      // What each side saw of Redis, for a failure that only shows on a loaded machine.
      const redisLines = (api: ApiProcess): string =>
        api
          .stdout()
          .split('\n')
          .filter((line) => /redis|security_event/.test(line))
          .slice(-10)
          .join('\n');
      throw new Error(
        `${String(error)}\nsocket closed: ${String(before.isClosed)}; ` +
          `messages: ${JSON.stringify(before.messages.slice(-3))}\n` +
          `east:\n${redisLines(east)}\nwest:\n${redisLines(west)}`,
        { cause: error },
      );
    }
    expect(before.of('events').at(-1)?.payload?.data?.securityEvents).toMatchObject({
      type: 'SIGNED_IN',
    });
  });
});

describe('two API instances without Redis', () => {
  let east: ApiProcess;
  let west: ApiProcess;

  beforeAll(async () => {
    const env = { MONGODB_URI: databaseUri(uniqueDbName()), SUBSCRIPTION_SESSION_CHECK: '1s' };
    [east, west] = await Promise.all([startApiProcess({ env }), startApiProcess({ env })]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([east?.stop(), west?.stop()]);
  });

  it('close a socket revoked on the other instance within the session-check interval', async () => {
    const first = await registerUser(east);
    const second = await login(east, first.user.email);
    const socket = await subscribed(east, second);
    const started = Date.now();
    await west.gql(
      REVOKE_SESSION,
      { id: sessionIdOf(second.accessToken) },
      { token: first.accessToken },
    );
    // SUBSCRIPTION_SESSION_CHECK (1 s) + 10 % jitter + the lookup.
    expect(await socket.closedWithin(3000)).toEqual({ code: 4401, reason: 'SESSION_REVOKED' });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
