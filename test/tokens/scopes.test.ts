import { sessionIdOf } from '../helpers/sessions';
import { MeDocument, SetUserRolesDocument, UsersDocument } from '../../client/generated/graphql';
import { satisfiesScopeSets, scopeCovers } from '../../src/tokens/scopes';
import {
  GOOD_PASSWORD,
  LOGIN,
  registerUser,
  tokenClaims,
  type AuthPayload,
  bodyPayload,
} from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';
import { accessTokenClaims, forgeAccessToken } from '../helpers/tokens';

describe('scopeCovers', () => {
  it.each([
    ['users:read', 'users:read', true],
    ['users:*', 'users:read', true],
    ['users:*', 'users:read:email', true],
    ['users:read:*', 'users:read:email', true],
    ['*', 'anything:at:all', true],
    ['users:*', 'users', false],
    ['users:*', 'usersx:read', false],
    ['users', 'users:read', false],
    ['users:read', 'users:write', false],
    ['users:read:*', 'users:read', false],
  ])('granted %s covers required %s: %s', (granted, required, expected) => {
    expect(scopeCovers(granted, required)).toBe(expected);
  });

  it('passes scope sets when every scope of one inner list is covered', () => {
    expect(satisfiesScopeSets(['a:*'], [['a:x', 'b'], ['a:y']])).toBe(true);
    expect(satisfiesScopeSets(['a:x'], [['a:x', 'b']])).toBe(false);
    expect(satisfiesScopeSets([], [])).toBe(true);
  });
});

async function promote(api: TestServer, user: AuthPayload): Promise<AuthPayload> {
  await api.database.models.User.updateOne(
    { _id: user.user.id },
    { $set: { roles: ['USER', 'ADMIN'] } },
  );
  const login = await api.gql(LOGIN, {
    input: { email: user.user.email, password: GOOD_PASSWORD },
  });
  return bodyPayload(login.body.data!.login);
}

describe('access tokens with the default role→scope map', () => {
  let api: TestServer;
  let user: AuthPayload;
  let admin: AuthPayload;

  beforeAll(async () => {
    api = await startTestServer();
    user = await registerUser(api);
    admin = await promote(api, await registerUser(api));
  });

  afterAll(async () => {
    await api.close();
  });

  it('carries RFC 9068 client_id, and scope only where the roles grant one', () => {
    expect(tokenClaims(user.accessToken)).toMatchObject({ client_id: 'graphql-jwt-auth' });
    expect(tokenClaims(user.accessToken)).not.toHaveProperty('scope');
    expect(tokenClaims(admin.accessToken)).toMatchObject({
      scope: 'users:*',
      client_id: 'graphql-jwt-auth',
    });
  });

  it('lets ADMIN list users and read their emails through users:*', async () => {
    const response = await api.gql(UsersDocument, {}, { token: admin.accessToken });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.users?.map((u) => u.email)).toContain(user.user.email);
  });

  it('keeps a token issued before scopes working for role-only and signed-in guards, scope-less', async () => {
    const old = forgeAccessToken(
      accessTokenClaims({
        sub: admin.user.id,
        roles: ['USER', 'ADMIN'],
        sid: sessionIdOf(admin.accessToken),
      }),
    );
    const me = await api.gql(MeDocument, {}, { token: old });
    // The token names the admin's live session, as a token of the earlier version would.
    expect(me.body.data?.me.id).toBe(admin.user.id);
    const users = await api.gql(UsersDocument, {}, { token: old });
    expect(users.body.errors?.[0]?.extensions).toMatchObject({ reason: 'INSUFFICIENT_SCOPE' });
  });

  it.each([42, ['users:*'], null])('refuses a token whose scope claim is %p', async (scope) => {
    const token = forgeAccessToken(accessTokenClaims({ sub: user.user.id, scope }));
    const response = await api.gql(MeDocument, {}, { token });
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_TOKEN',
    });
  });

  it('refuses a token whose client_id is not a string', async () => {
    const token = forgeAccessToken(accessTokenClaims({ sub: user.user.id, client_id: 7 }));
    const response = await api.gql(MeDocument, {}, { token });
    expect(response.body.errors?.[0]?.extensions?.reason).toBe('INVALID_TOKEN');
  });
});

describe('access tokens with a configured role→scope map and client id', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({
      env: { ROLE_SCOPES: 'USER=users:write profile;ADMIN=*', JWT_CLIENT_ID: 'web-app' },
    });
  });

  afterAll(async () => {
    await api.close();
  });

  it('writes the configured scopes and client id', async () => {
    const user = await registerUser(api);
    expect(tokenClaims(user.accessToken)).toMatchObject({
      scope: 'users:write profile',
      client_id: 'web-app',
    });
  });

  it('lets scopes, not roles, decide: a USER with users:write sets roles', async () => {
    const actor = await registerUser(api);
    const target = await registerUser(api);
    const response = await api.gql(
      `mutation ($id: ID!) { setUserRoles(userId: $id, roles: [USER]) { id roles } }`,
      { id: target.user.id },
      { token: actor.accessToken },
    );
    expect(response.body).toEqual({
      data: { setUserRoles: { id: target.user.id, roles: ['USER'] } },
    });
  });

  it("refuses another user's email to a caller without users:read, nulling the User", async () => {
    const actor = await registerUser(api);
    const target = await registerUser(api);
    const response = await api.gql(
      SetUserRolesDocument,
      { userId: target.user.id, roles: ['USER'] },
      { token: actor.accessToken },
    );
    // User.email is non-null: the refusal nulls the User, and setUserRoles is non-null too.
    expect(response.body.data).toBeNull();
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        path: ['setUserRoles', 'email'],
        extensions: { code: 'FORBIDDEN', reason: 'POLICY_DENIED', policy: 'selfOrUsersRead' },
      }),
    ]);
  });

  it('still reads the own email in me and in the payload of a sign-in', async () => {
    const user = await registerUser(api);
    expect(user.user.email).toMatch(/@example\.com$/);
    const me = await api.gql(MeDocument, {}, { token: user.accessToken });
    expect(me.body.data?.me.email).toBe(user.user.email);
  });
});
