import {
  firstError,
  GOOD_PASSWORD,
  LOGIN,
  ME,
  registerUser,
  tokenClaims,
} from '../helpers/operations';
import {
  CHANGE_PASSWORD,
  DELETE_ACCOUNT,
  loginAgain,
  refresh,
  SESSIONS,
  sessionIdOf,
} from '../helpers/sessions';
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});

afterAll(async () => {
  await api.close();
});

const NEW_PASSWORD = 'a brand new passphrase';

function changePassword(token: string, currentPassword: string, newPassword: string) {
  return api.gql(CHANGE_PASSWORD, { currentPassword, newPassword }, { token });
}

function deleteAccount(token: string, password = GOOD_PASSWORD) {
  return api.gql(DELETE_ACCOUNT, { password }, { token });
}

function login(email: string, password: string) {
  return api.gql(LOGIN, { input: { email, password } });
}

function expectError(response: GraphQLResponse, extensions: Record<string, unknown>): void {
  expect(response.status).toBe(200);
  expect(response.body.data).toBeNull();
  expect(firstError(response).extensions).toMatchObject(extensions);
}

const payloadOf = tokenClaims;

describe('changePassword', () => {
  it('replaces the password: the old one stops working, the new one signs in', async () => {
    const session = await registerUser(api);
    const response = await changePassword(session.accessToken, GOOD_PASSWORD, NEW_PASSWORD);
    expect(response.body.errors).toBeUndefined();

    expectError(await login(session.user.email, GOOD_PASSWORD), {
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_CREDENTIALS',
    });
    expect((await login(session.user.email, NEW_PASSWORD)).body.errors).toBeUndefined();
  });

  it('ends every earlier session and returns a fresh one that works', async () => {
    const caller = await registerUser(api);
    const other = await loginAgain(api, caller.user.email);
    const changed = (await changePassword(caller.accessToken, GOOD_PASSWORD, NEW_PASSWORD)).body
      .data!.changePassword;

    expect(changed).toMatchObject({ tokenType: 'Bearer', user: { id: caller.user.id } });
    expect(payloadOf(changed.accessToken).fresh).toBe(true);
    expect(sessionIdOf(changed.accessToken)).not.toBe(sessionIdOf(caller.accessToken));

    for (const old of [caller, other]) {
      expectError(await refresh(api, old.refreshToken), { reason: 'INVALID_REFRESH_TOKEN' });
      expectError(await api.gql(ME, {}, { token: old.accessToken }), {
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_TOKEN',
      });
    }

    expect((await api.gql(ME, {}, { token: changed.accessToken })).body.errors).toBeUndefined();
    const sessions = await api.gql(SESSIONS, {}, { token: changed.accessToken });
    expect(sessions.body.data?.sessions).toEqual([
      expect.objectContaining({ id: sessionIdOf(changed.accessToken), current: true }),
    ]);
    expect((await refresh(api, changed.refreshToken!)).body.errors).toBeUndefined();
  });

  it('refuses a wrong current password with INVALID_CREDENTIALS and changes nothing', async () => {
    const session = await registerUser(api);
    const response = await changePassword(session.accessToken, 'not my password', NEW_PASSWORD);
    expectError(response, { code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    expect(firstError(response).path).toEqual(['changePassword']);

    expect((await login(session.user.email, GOOD_PASSWORD)).body.errors).toBeUndefined();
    expect((await refresh(api, session.refreshToken)).body.errors).toBeUndefined();
  });

  it.each([
    ['too short', 'short', 'WEAK_PASSWORD'],
    ['too long for bcrypt', 'x'.repeat(73), 'PASSWORD_TOO_LONG'],
  ])(
    'refuses a new password that is %s as BAD_USER_INPUT on newPassword',
    async (_n, pw, reason) => {
      const session = await registerUser(api);
      const response = await changePassword(session.accessToken, GOOD_PASSWORD, pw);
      expectError(response, { code: 'BAD_USER_INPUT', reason, field: 'newPassword' });
      expect((await login(session.user.email, GOOD_PASSWORD)).body.errors).toBeUndefined();
    },
  );

  it('counts wrong current passwords against the login throttle of the account', async () => {
    const session = await registerUser(api);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const response = await changePassword(
        session.accessToken,
        `wrong guess ${attempt}`,
        NEW_PASSWORD,
      );
      expectError(response, { code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    }
    const throttled = await changePassword(session.accessToken, GOOD_PASSWORD, NEW_PASSWORD);
    expectError(throttled, { code: 'RATE_LIMITED' });
    expect(throttled.headers.get('retry-after')).toBe(
      String(firstError(throttled).extensions?.retryAfter),
    );
    // The same counter guards login and deleteAccount: a stolen access token is no way around it.
    expectError(await login(session.user.email, GOOD_PASSWORD), { code: 'RATE_LIMITED' });
    expectError(await deleteAccount(session.accessToken), { code: 'RATE_LIMITED' });
    expect(await api.database.models.User.exists({ _id: session.user.id })).not.toBeNull();
  });

  it('works with a refreshed (not fresh) access token, since it checks the password itself', async () => {
    const session = await registerUser(api);
    const rotated = (await refresh(api, session.refreshToken)).body.data!.refreshToken;
    const response = await changePassword(rotated.accessToken, GOOD_PASSWORD, NEW_PASSWORD);
    expect(response.body.errors).toBeUndefined();
  });

  it('needs a signed-in caller', async () => {
    const response = await api.gql(CHANGE_PASSWORD, {
      currentPassword: GOOD_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expectError(response, { code: 'UNAUTHENTICATED', reason: 'MISSING_TOKEN' });
  });
});

describe('deleteAccount', () => {
  it('refuses a refreshed access token with FORBIDDEN/FRESH_TOKEN_REQUIRED and keeps the user', async () => {
    const session = await registerUser(api);
    const rotated = (await refresh(api, session.refreshToken)).body.data!.refreshToken;
    const response = await deleteAccount(rotated.accessToken);
    expectError(response, { code: 'FORBIDDEN', reason: 'FRESH_TOKEN_REQUIRED' });
    expect(firstError(response).path).toEqual(['deleteAccount']);
    expect(await api.database.models.User.exists({ _id: session.user.id })).not.toBeNull();
  });

  it('removes the user and every token of theirs with a fresh token and the password', async () => {
    const session = await registerUser(api);
    const other = await loginAgain(api, session.user.email);
    const { User, UserEmail, Session } = api.database.models;
    expect(await Session.countDocuments({ userId: session.user.id })).toBe(2);

    const response = await deleteAccount(other.accessToken);
    expect(response.body).toEqual({ data: { deleteAccount: true } });

    expect(await User.exists({ _id: session.user.id })).toBeNull();
    expect(await Session.countDocuments({ userId: session.user.id })).toBe(0);
    expect(await UserEmail.exists({ _id: session.user.email })).toBeNull();
    expectError(await api.gql(ME, {}, { token: session.accessToken }), {
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_TOKEN',
    });
    expectError(await refresh(api, session.refreshToken), { reason: 'INVALID_REFRESH_TOKEN' });
    expectError(await login(session.user.email, GOOD_PASSWORD), {
      reason: 'INVALID_CREDENTIALS',
    });
  });

  it('refuses a wrong password with INVALID_CREDENTIALS and keeps the user', async () => {
    const session = await registerUser(api);
    const response = await deleteAccount(session.accessToken, 'not my password');
    expectError(response, { code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    expect(await api.database.models.User.exists({ _id: session.user.id })).not.toBeNull();
  });

  it('lets the email be registered again afterwards', async () => {
    const session = await registerUser(api);
    await deleteAccount(session.accessToken);
    const again = await registerUser(api, { email: session.user.email });
    expect(again.user.id).not.toBe(session.user.id);
  });
});
