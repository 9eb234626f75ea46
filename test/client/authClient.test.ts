import { createAuthClient, type AuthClient } from '../../client/authClient';
import { AuthClientError } from '../../client/authClientError';
import { MeDocument, SessionsDocument } from '../../client/generated/graphql';
import type { FetchLike } from '../../client/postGraphQL';
import { createInProcessLock } from '../../client/refreshLock';
import { memoryTokenStorage, type TokenStorage } from '../../client/tokenStorage';
import { accessTokenExpiryMs, sleep } from '../helpers/expiry';
import { GOOD_PASSWORD, LOGOUT, REFRESH, firstError, uniqueEmail } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  // The shortest lifetime there is, so tests can outlive an access token.
  api = await startTestServer({ env: { ACCESS_TOKEN_TTL: '1s' } });
});

afterAll(async () => {
  await api.close();
});

/** What went over the wire: every operation sent and every error reason received. */
interface Traffic {
  operations: string[];
  reasons: string[];
  count(operationName: string): number;
}

/** Real `fetch` to the real API, noting each operation name and each error reason on the way. */
function recordingFetch(): { fetch: FetchLike; traffic: Traffic } {
  const traffic: Traffic = {
    operations: [],
    reasons: [],
    count: (name) => traffic.operations.filter((operation) => operation === name).length,
  };
  const recorder: FetchLike = async (url, init) => {
    const body = JSON.parse(typeof init.body === 'string' ? init.body : '{}') as {
      operationName?: string;
    };
    traffic.operations.push(body.operationName ?? '(anonymous)');
    const response = await fetch(url, init);
    const payload = (await response.clone().json()) as {
      errors?: Array<{ extensions?: { reason?: string } }>;
    };
    for (const error of payload.errors ?? []) traffic.reasons.push(error.extensions?.reason ?? '');
    return response;
  };
  return { fetch: recorder, traffic };
}

function newClient(
  options: {
    storage?: TokenStorage;
    refreshAheadSeconds?: number;
    lock?: ReturnType<typeof createInProcessLock>;
  } = {},
) {
  const { fetch, traffic } = recordingFetch();
  const storage = options.storage ?? memoryTokenStorage();
  const client = createAuthClient({ url: `${api.url}/graphql`, fetch, ...options, storage });
  return { client, storage, traffic };
}

async function signUp(client: AuthClient, email = uniqueEmail('client')) {
  return client.register({ email, password: GOOD_PASSWORD, name: 'Client Test' });
}

async function rejection(promise: Promise<unknown>): Promise<AuthClientError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof AuthClientError)) {
    throw new Error(`expected an AuthClientError, got ${String(error)}`);
  }
  return error;
}

describe('createAuthClient', () => {
  it('signs up, keeps the refresh token in its storage and sends the access token on queries', async () => {
    const { client, storage, traffic } = newClient();
    const changes: boolean[] = [];
    client.onChange((signedIn) => changes.push(signedIn));
    const email = uniqueEmail('signup');

    const user = await signUp(client, email);
    const me = await client.request(MeDocument);

    expect(user.email).toBe(email);
    expect(me.me).toEqual(user);
    expect(storage.get()).toMatch(/^[A-Za-z0-9_.-]{43,}$/);
    expect(client.isSignedIn()).toBe(true);
    expect(changes).toEqual([true]);
    expect(traffic.operations).toEqual(['Register', 'Me']);
  });

  it('reports the API error code, reason and field of a failed call', async () => {
    const { client } = newClient();
    const email = uniqueEmail('errors');
    await signUp(client, email);

    const taken = await rejection(signUp(newClient().client, email));
    const wrongPassword = await rejection(
      newClient().client.login({ email, password: 'not the password at all' }),
    );

    expect(taken).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'EMAIL_TAKEN', field: 'email' });
    expect(wrongPassword).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
  });

  it('reports an unreachable API as NETWORK_ERROR', async () => {
    const client = createAuthClient({
      url: 'http://127.0.0.1:9/graphql',
      storage: memoryTokenStorage(),
    });

    const error = await rejection(client.login({ email: uniqueEmail(), password: GOOD_PASSWORD }));

    expect(error.code).toBe('NETWORK_ERROR');
  });

  it('shares one refresh among concurrent calls after the access token expires, and retries them', async () => {
    const { client, storage, traffic } = newClient();
    await signUp(client);
    const firstRefreshToken = storage.get();
    await sleep(accessTokenExpiryMs(api.config));

    const results = await Promise.all([
      client.request(MeDocument),
      client.request(SessionsDocument),
      client.request(MeDocument),
      client.request(SessionsDocument),
      client.request(MeDocument),
    ]);

    expect(results.map((result) => Object.keys(result)[0])).toEqual([
      'me',
      'sessions',
      'me',
      'sessions',
      'me',
    ]);
    expect(traffic.count('RefreshToken')).toBe(1);
    expect(traffic.reasons).toEqual(Array(5).fill('TOKEN_EXPIRED'));
    expect(storage.get()).not.toBe(firstRefreshToken);
    // Reuse detection never fired: the session lives on and its new refresh token works.
    const sessions = await client.request(SessionsDocument);
    expect(sessions.sessions).toHaveLength(1);
    const rotated = await api.gql(REFRESH, { refreshToken: storage.get()! });
    expect(rotated.body.errors).toBeUndefined();
  });

  it('refreshes ahead of time when refreshAheadSeconds says the token is about to run out', async () => {
    const { client, traffic } = newClient({ refreshAheadSeconds: 60 });
    await signUp(client);
    // A lead longer than the token lives still leaves it the first half of its life: past that,
    // one refresh, and the new token is not refreshed again at once.
    await sleep(api.config.jwt.accessTokenTtl * 500 + 100);

    await Promise.all([client.request(MeDocument), client.request(MeDocument)]);

    expect(traffic.operations).toEqual(['Register', 'RefreshToken', 'Me', 'Me']);
    expect(traffic.reasons).toEqual([]);
  });

  it('resumes from a stored refresh token after a reload, with one refresh', async () => {
    const first = newClient();
    await signUp(first.client);
    const { client, traffic } = newClient({ storage: memoryTokenStorage(first.storage.get()) });

    const [me, sessions] = await Promise.all([
      client.request(MeDocument),
      client.request(SessionsDocument),
    ]);

    expect(client.isSignedIn()).toBe(true);
    expect(me.me.email).toMatch(/@example\.com$/);
    expect(sessions.sessions).toHaveLength(1);
    expect(traffic.operations).toEqual(['RefreshToken', 'Me', 'Sessions']);
  });

  it('signs out when the API rejects the refresh token, and every waiting call learns it', async () => {
    const { client, storage, traffic } = newClient();
    const changes: boolean[] = [];
    client.onChange((signedIn) => changes.push(signedIn));
    await signUp(client);
    // The session ends elsewhere (another device signs it out): its access token stops working too.
    await api.gql(LOGOUT, { refreshToken: storage.get()! });

    const errors = await Promise.all([
      rejection(client.request(MeDocument)),
      rejection(client.request(SessionsDocument)),
    ]);

    for (const error of errors) {
      expect(error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_REFRESH_TOKEN' });
    }
    expect(traffic.count('RefreshToken')).toBe(1);
    expect(storage.get()).toBeNull();
    expect(client.isSignedIn()).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('treats an unknown stored refresh token as signed out', async () => {
    const { client, storage } = newClient({ storage: memoryTokenStorage('no-such-token') });
    expect(client.isSignedIn()).toBe(true);

    const error = await rejection(client.request(MeDocument));

    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_REFRESH_TOKEN' });
    expect(storage.get()).toBeNull();
    expect(client.isSignedIn()).toBe(false);
  });

  it('lets two clients over one storage and one lock refresh in turn without tripping reuse detection', async () => {
    // Two tabs of one browser: a shared refresh token, each tab its own access token in memory.
    const storage = memoryTokenStorage();
    const lock = createInProcessLock();
    const tabA = newClient({ storage, lock });
    const tabB = newClient({ storage, lock });
    await signUp(tabA.client);
    await tabB.client.request(MeDocument);
    await sleep(accessTokenExpiryMs(api.config));

    const [a, b] = await Promise.all([
      tabA.client.request(SessionsDocument),
      tabB.client.request(SessionsDocument),
    ]);

    expect(a.sessions).toHaveLength(1);
    expect(b.sessions).toHaveLength(1);
    expect(tabA.traffic.count('RefreshToken')).toBe(1);
    expect(tabB.traffic.count('RefreshToken')).toBe(2);
    expect(tabA.client.isSignedIn() && tabB.client.isSignedIn()).toBe(true);
  });

  it('continues in a new session after changing the password', async () => {
    const { client, storage } = newClient();
    await signUp(client);
    const oldRefreshToken = storage.get();

    await client.changePassword(GOOD_PASSWORD, 'a different passphrase entirely');
    const sessions = await client.request(SessionsDocument);

    expect(storage.get()).not.toBe(oldRefreshToken);
    expect(sessions.sessions).toHaveLength(1);
    const stale = await api.gql(REFRESH, { refreshToken: oldRefreshToken! });
    expect(firstError(stale).extensions).toMatchObject({ reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('logs out: revokes the session on the server and forgets both tokens', async () => {
    const { client, storage } = newClient();
    await signUp(client);
    const refreshToken = storage.get();

    const confirmed = await client.logout();
    const error = await rejection(client.request(MeDocument));

    expect(confirmed).toBe(true);
    expect(storage.get()).toBeNull();
    expect(client.isSignedIn()).toBe(false);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'MISSING_TOKEN' });
    const revoked = await api.gql(REFRESH, { refreshToken: refreshToken! });
    expect(firstError(revoked).extensions).toMatchObject({ reason: 'INVALID_REFRESH_TOKEN' });
  });
});
