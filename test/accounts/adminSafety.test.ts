import {
  SetUserRolesDocument as SET_ROLES,
  UsersDocument as USERS,
} from '../../client/generated/graphql';
import { firstError, ME, registerAdmin, registerUser } from '../helpers/operations';
import { refresh } from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';

async function storedRoles(api: TestServer, userId: string): Promise<string[]> {
  const user = await api.database.models.User.findById(userId).lean();
  return user!.roles;
}

describe('setUserRoles', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
  });

  afterAll(async () => {
    await api.close();
  });

  it('needs a fresh access token: a refreshed one is refused with FRESH_TOKEN_REQUIRED', async () => {
    const admin = await registerAdmin(api);
    const target = await registerUser(api);
    const refreshed = (await refresh(api, admin.refreshToken)).body.data!.refreshToken;
    // The refreshed token still carries the scope: only freshness is missing.
    expect(
      (await api.gql(USERS, {}, { token: refreshed.accessToken })).body.errors,
    ).toBeUndefined();

    const response = await api.gql(
      SET_ROLES,
      { userId: target.user.id, roles: ['USER', 'ADMIN'] },
      { token: refreshed.accessToken },
    );
    expect(response.body.data).toBeNull();
    expect(firstError(response)).toMatchObject({
      path: ['setUserRoles'],
      extensions: { code: 'FORBIDDEN', reason: 'FRESH_TOKEN_REQUIRED' },
    });
    expect(await storedRoles(api, target.user.id)).toEqual(['USER']);
  });

  it('ends the sessions of a user who loses a role, so no token keeps carrying it', async () => {
    const admin = await registerAdmin(api);
    const demoted = await registerAdmin(api);
    const response = await api.gql(
      SET_ROLES,
      { userId: demoted.user.id, roles: ['USER'] },
      { token: admin.accessToken },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.setUserRoles.roles).toEqual(['USER']);

    expect(firstError(await api.gql(ME, {}, { token: demoted.accessToken })).extensions).toEqual({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_TOKEN',
    });
    expect(firstError(await refresh(api, demoted.refreshToken)).extensions).toMatchObject({
      reason: 'INVALID_REFRESH_TOKEN',
    });
    // The admin's own session is untouched.
    expect((await api.gql(ME, {}, { token: admin.accessToken })).body.errors).toBeUndefined();
  });

  it('keeps the sessions of a user who only gains a role', async () => {
    const admin = await registerAdmin(api);
    const promoted = await registerUser(api);
    const response = await api.gql(
      SET_ROLES,
      { userId: promoted.user.id, roles: ['USER', 'ADMIN'] },
      { token: admin.accessToken },
    );
    expect(response.body.errors).toBeUndefined();
    expect((await api.gql(ME, {}, { token: promoted.accessToken })).body.errors).toBeUndefined();
  });
});

describe('the last administrator', () => {
  let api: TestServer;

  beforeEach(async () => {
    api = await startTestServer();
  });

  afterEach(async () => {
    await api.close();
  });

  it('cannot be demoted: FORBIDDEN / LAST_ADMIN, and the roles stay', async () => {
    const admin = await registerAdmin(api);
    const response = await api.gql(
      SET_ROLES,
      { userId: admin.user.id, roles: ['USER'] },
      { token: admin.accessToken },
    );
    expect(response.body.data).toBeNull();
    expect(firstError(response)).toMatchObject({
      path: ['setUserRoles'],
      extensions: { code: 'FORBIDDEN', reason: 'LAST_ADMIN' },
    });
    expect(await storedRoles(api, admin.user.id)).toEqual(['USER', 'ADMIN']);
    // Refused before any session ended.
    expect((await api.gql(ME, {}, { token: admin.accessToken })).body.errors).toBeUndefined();
  });

  it('cannot be demoted from the command line either', async () => {
    const admin = await registerAdmin(api);
    await expect(
      api.server.services.users.setRolesByEmail(admin.user.email, ['USER']),
    ).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN', reason: 'LAST_ADMIN' } });
    expect(await storedRoles(api, admin.user.id)).toEqual(['USER', 'ADMIN']);
  });

  it('may step down once another ADMIN exists', async () => {
    const admin = await registerAdmin(api);
    await registerAdmin(api);
    const response = await api.gql(
      SET_ROLES,
      { userId: admin.user.id, roles: ['USER'] },
      { token: admin.accessToken },
    );
    expect(response.body.data?.setUserRoles.roles).toEqual(['USER']);
  });

  it('survives two administrators demoting each other at the same time', async () => {
    for (let round = 0; round < 3; round += 1) {
      const [first, second] = await Promise.all([registerAdmin(api), registerAdmin(api)]);
      await api.database.models.User.updateMany(
        { _id: { $nin: [first.user.id, second.user.id] } },
        { $set: { roles: ['USER'] } },
      );
      const responses = await Promise.all([
        api.gql(
          SET_ROLES,
          { userId: second.user.id, roles: ['USER'] },
          { token: first.accessToken },
        ),
        api.gql(
          SET_ROLES,
          { userId: first.user.id, roles: ['USER'] },
          { token: second.accessToken },
        ),
      ]);
      const passed = responses.filter((response) => !response.body.errors);
      expect(passed.length).toBeLessThanOrEqual(1);
      expect(
        await api.database.models.User.countDocuments({ roles: 'ADMIN' }),
      ).toBeGreaterThanOrEqual(1);
    }
  });
});
