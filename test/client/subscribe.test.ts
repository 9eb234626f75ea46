import WebSocket from 'ws';
import { createAuthClient, type AuthClient } from '../../client/authClient';
import type { AuthClientError } from '../../client/authClientError';
import {
  SecurityEventsDocument,
  SessionsDocument,
  type SecurityEventsSubscription,
} from '../../client/generated/graphql';
import { memoryTokenStorage } from '../../client/tokenStorage';
import {
  databaseUri,
  killApiProcesses,
  startApiProcess,
  type ApiProcess,
} from '../helpers/apiProcess';
import { sleep } from '../helpers/expiry';
import { GOOD_PASSWORD, LOGIN, uniqueEmail } from '../helpers/operations';
import { REVOKE_SESSION, sessionIdOf } from '../helpers/sessions';
import { uniqueDbName } from '../helpers/testServer';

jest.setTimeout(60_000);

type SecurityEvent = SecurityEventsSubscription['securityEvents'];

let api: ApiProcess;

beforeAll(async () => {
  // Four-second access tokens, so a subscription outlives one, with time left after a renewal to
  // revoke the session before the renewed token expires too (an expired one would make the
  // client's refresh, not the socket, learn of the revocation).
  api = await startApiProcess({
    env: { MONGODB_URI: databaseUri(uniqueDbName()), ACCESS_TOKEN_TTL: '4s' },
  });
});

afterAll(async () => {
  await api?.stop();
  await killApiProcesses();
});

/** A subscription's events and its end, as the handlers see them. */
function listen(client: AuthClient) {
  const events: SecurityEvent[] = [];
  let ended: AuthClientError | 'complete' | undefined;
  const stop = client.subscribe(SecurityEventsDocument, undefined, {
    next: (data) => events.push(data.securityEvents),
    error: (error) => (ended = error),
    complete: () => (ended = 'complete'),
  });
  return { events, ended: () => ended, stop };
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

async function loginElsewhere(email: string) {
  const response = await api.gql(LOGIN, { input: { email, password: GOOD_PASSWORD } });
  return response.body.data!.login;
}

describe('AuthClient.subscribe', () => {
  it('delivers events typed by codegen, reconnects after TOKEN_EXPIRED and stops on SESSION_REVOKED', async () => {
    const storage = memoryTokenStorage();
    const client = createAuthClient({
      url: `${api.url}/graphql`,
      storage,
      webSocketImpl: WebSocket,
    });
    const email = uniqueEmail('subscriber');
    await client.register({ email, password: GOOD_PASSWORD });
    const subscription = listen(client);
    await sleep(500);

    const other = await loginElsewhere(email);
    await waitUntil(() => subscription.events.length === 1, 'the first sign-in arrived');
    expect(subscription.events[0]).toMatchObject({
      type: 'SIGNED_IN',
      sessionId: sessionIdOf(other.accessToken),
      current: false,
    });

    // The access token expires: the server closes 4401 TOKEN_EXPIRED and the client comes back
    // with a refreshed one, on its own.
    const refreshTokenBefore = storage.get();
    await sleep(4500);
    await waitUntil(() => storage.get() !== refreshTokenBefore, 'the client refreshed');
    // The renewed socket subscribes again; a sign-in published before that is not queued, so
    // sign in until one arrives.
    for (let attempt = 1; subscription.events.length < 2; attempt += 1) {
      if (attempt > 10) throw new Error('no sign-in arrived after the renewal');
      await loginElsewhere(email);
      await sleep(400);
    }
    expect(subscription.ended()).toBeUndefined();

    // Another device revokes this session: the client signs out and the subscription ends.
    // The session id of this client: the one `current` marks.
    const mine = await client.request(SessionsDocument);
    const ownId = mine.sessions.find((session) => session.current)!.id;
    await api.gql(REVOKE_SESSION, { id: ownId }, { token: other.accessToken });
    await waitUntil(() => subscription.ended() !== undefined, 'the subscription ended');
    expect(subscription.ended()).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'SESSION_REVOKED',
    });
    expect(client.isSignedIn()).toBe(false);
    expect(storage.get()).toBeNull();
  });

  it('reports MISSING_TOKEN when signed out, without retrying', async () => {
    const client = createAuthClient({
      url: `${api.url}/graphql`,
      storage: memoryTokenStorage(),
      webSocketImpl: WebSocket,
    });
    const subscription = listen(client);
    await waitUntil(() => subscription.ended() !== undefined, 'the subscription ended');
    expect(subscription.ended()).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'MISSING_TOKEN',
    });
  });

  it('stops when asked', async () => {
    const client = createAuthClient({
      url: `${api.url}/graphql`,
      storage: memoryTokenStorage(),
      webSocketImpl: WebSocket,
    });
    const email = uniqueEmail('stopper');
    await client.register({ email, password: GOOD_PASSWORD });
    const subscription = listen(client);
    await sleep(500);
    subscription.stop();
    await loginElsewhere(email);
    await sleep(500);
    expect(subscription.events).toEqual([]);
  });
});
