import { print } from 'graphql';
import {
  firstError,
  LOGIN,
  GOOD_PASSWORD,
  registerAdmin,
  registerUser,
  type AuthPayload,
  bodyPayload,
} from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';
import { accessTokenClaims, forgeAccessToken } from '../helpers/tokens';

let api: TestServer;
let admin: AuthPayload;
let user: AuthPayload;

import {
  SetUserRolesDocument as SET_ROLES,
  UsersDocument as USERS,
} from '../../client/generated/graphql';

beforeAll(async () => {
  api = await startTestServer();
  admin = await registerUser(api);
  await api.database.models.User.updateOne(
    { _id: admin.user.id },
    { $set: { roles: ['USER', 'ADMIN'] } },
  );
  admin = bodyPayload(
    (
      await api.gql(LOGIN, {
        input: { email: admin.user.email, password: GOOD_PASSWORD },
      })
    ).body.data!.login,
  );
  user = await registerUser(api);
});

afterAll(async () => {
  await api.close();
});

describe('users', () => {
  it('answers FORBIDDEN/INSUFFICIENT_SCOPE to a USER, naming the field and the scope', async () => {
    const response = await api.gql(USERS, {}, { token: user.accessToken });
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ users: null });
    expect(firstError(response)).toMatchObject({
      path: ['users'],
      extensions: {
        code: 'FORBIDDEN',
        reason: 'INSUFFICIENT_SCOPE',
        requiredScopes: [['users:read']],
      },
    });
  });

  it('lists users to an ADMIN, with paging', async () => {
    const all = await api.gql(USERS, {}, { token: admin.accessToken });
    expect(all.body.errors).toBeUndefined();
    expect(all.body.data?.users?.map((u) => u.id)).toEqual(
      expect.arrayContaining([admin.user.id, user.user.id]),
    );
    const page = await api.gql(USERS, { limit: 1, offset: 1 }, { token: admin.accessToken });
    expect(page.body.data?.users).toHaveLength(1);
    expect(page.body.data?.users?.[0]?.id).toBe(all.body.data?.users?.[1]?.id);
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 1000 }, 'limit'],
    [{ offset: -1 }, 'offset'],
  ])('refuses paging arguments %p as BAD_USER_INPUT on %s', async (variables, field) => {
    const response = await api.gql(USERS, variables, { token: admin.accessToken });
    expect(firstError(response).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});

describe('admin fields check the stored account, not only the token', () => {
  it('refuses a demoted admin at once, although the token still says ADMIN', async () => {
    const demoted = await registerAdmin(api);
    expect((await api.gql(USERS, {}, { token: demoted.accessToken })).body.errors).toBeUndefined();
    await api.gql(
      SET_ROLES,
      { userId: demoted.user.id, roles: ['USER'] },
      { token: admin.accessToken },
    );

    // setUserRoles ends the demoted user's sessions, so the token no longer counts at all.
    const list = await api.gql(USERS, {}, { token: demoted.accessToken });
    expect(firstError(list)).toMatchObject({
      path: ['users'],
      extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_TOKEN' },
    });
    const stored = await api.database.models.User.findById(demoted.user.id).lean();
    expect(stored?.roles).toEqual(['USER']);
  });

  it('lets the stored roles decide for a live session whose token still says ADMIN', async () => {
    const demoted = await registerAdmin(api);
    // Roles changed underneath the session (a direct write: nothing ended the session).
    await api.database.models.User.updateOne(
      { _id: demoted.user.id },
      { $set: { roles: ['USER'] } },
    );

    const list = await api.gql(USERS, {}, { token: demoted.accessToken });
    expect(firstError(list)).toMatchObject({
      path: ['users'],
      extensions: { code: 'FORBIDDEN', reason: 'MISSING_ROLE' },
    });
    const grant = await api.gql(
      SET_ROLES,
      { userId: demoted.user.id, roles: ['USER', 'ADMIN'] },
      { token: demoted.accessToken },
    );
    expect(firstError(grant).extensions).toEqual({ code: 'FORBIDDEN', reason: 'MISSING_ROLE' });
    const stored = await api.database.models.User.findById(demoted.user.id).lean();
    expect(stored?.roles).toEqual(['USER']);
  });

  it('refuses the access token of an admin session that was logged out', async () => {
    const loggedOut = await registerAdmin(api);
    await api.gql(`mutation($t: String!) { logout(refreshToken: $t) }`, {
      t: loggedOut.refreshToken,
    });
    const list = await api.gql(USERS, {}, { token: loggedOut.accessToken });
    expect(firstError(list).extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('setUserRoles', () => {
  it('lets an ADMIN grant ADMIN, effective in the next access token', async () => {
    const target = await registerUser(api);
    const response = await api.gql(
      SET_ROLES,
      { userId: target.user.id, roles: ['USER', 'ADMIN', 'ADMIN'] },
      { token: admin.accessToken },
    );
    expect(response.body.data?.setUserRoles.roles).toEqual(['USER', 'ADMIN']);
    const relogged = await api.gql(LOGIN, {
      input: { email: target.user.email, password: GOOD_PASSWORD },
    });
    const users = await api.gql(USERS, {}, { token: relogged.body.data!.login.accessToken });
    expect(users.body.errors).toBeUndefined();
  });

  it('refuses a USER', async () => {
    const response = await api.gql(
      SET_ROLES,
      { userId: user.user.id, roles: ['ADMIN'] },
      { token: user.accessToken },
    );
    expect(firstError(response).extensions).toEqual({
      code: 'FORBIDDEN',
      reason: 'INSUFFICIENT_SCOPE',
      requiredScopes: [['users:write']],
    });
    const stored = await api.database.models.User.findById(user.user.id).lean();
    expect(stored?.roles).toEqual(['USER']);
  });

  it.each([
    ['a malformed id', 'not-an-id'],
    ['an unknown id', '0123456789abcdef01234567'],
  ])('answers BAD_USER_INPUT for %s', async (_name, userId) => {
    const response = await api.gql(
      SET_ROLES,
      { userId, roles: ['USER'] },
      { token: admin.accessToken },
    );
    expect(firstError(response).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'userId',
    });
  });

  it('refuses an unknown role before anything runs', async () => {
    const response = await api.gql(
      print(SET_ROLES),
      { userId: user.user.id, roles: ['ROOT'] },
      { token: admin.accessToken },
    );
    expect(response.status).toBe(400);
    expect(firstError(response).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('me', () => {
  it('answers UNAUTHENTICATED, not a 500, for a valid token of a user who no longer exists', async () => {
    const gone = await registerUser(api);
    await api.database.models.User.deleteOne({ _id: gone.user.id });
    const response = await api.gql('{ me { id } }', {}, { token: gone.accessToken });
    expect(response.status).toBe(200);
    expect(firstError(response).extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('answers UNAUTHENTICATED for a signed token whose subject is not an id', async () => {
    const token = forgeAccessToken(
      accessTokenClaims({ sub: 'not-an-object-id', sid: 's', fresh: true }),
    );
    const response = await api.gql('{ me { id } }', {}, { token });
    expect(firstError(response).extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
