import type { UpdateWriteOpResult } from 'mongoose';
import { firstError, LOGOUT, ME, registerUser } from '../helpers/operations';
import { REVOKE_SESSION, sessionIdOf } from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});

afterAll(async () => {
  await api.close();
});

afterEach(() => {
  jest.restoreAllMocks();
});

async function expectTokenDead(accessToken: string): Promise<void> {
  expect(firstError(await api.gql(ME, {}, { token: accessToken })).extensions).toMatchObject({
    code: 'UNAUTHENTICATED',
    reason: 'INVALID_TOKEN',
  });
}

describe('revocation whose write to the user document fails', () => {
  it('can be retried with the same refresh token, and then ends the access token too', async () => {
    const session = await registerUser(api);
    // The update that takes the session off the user's list fails once (a dropped connection).
    jest
      .spyOn(api.database.models.User, 'updateOne')
      .mockRejectedValueOnce(new Error('connection closed'));
    const failed = await api.gql(LOGOUT, { refreshToken: session.refreshToken });
    expect(firstError(failed).extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    jest.restoreAllMocks();

    const retried = await api.gql(LOGOUT, { refreshToken: session.refreshToken });
    expect(retried.body).toEqual({ data: { logout: true } });
    await expectTokenDead(session.accessToken);
  });

  it('unlists a session whose session document is already gone, retrying a lost update', async () => {
    const session = await registerUser(api);
    const sessionId = sessionIdOf(session.accessToken);
    // What a revocation cut short between its writes leaves: no session document, still listed.
    await api.database.models.Session.deleteOne({ _id: sessionId });
    const lost: Partial<UpdateWriteOpResult> = {
      acknowledged: true,
      matchedCount: 1,
      modifiedCount: 0,
    };
    // FerretDB may lose an update that races with another one (docs/data-model.md).
    jest
      .spyOn(api.database.models.User, 'updateOne')
      .mockImplementationOnce(
        () =>
          Promise.resolve(lost) as unknown as ReturnType<typeof api.database.models.User.updateOne>,
      );

    const response = await api.gql(
      REVOKE_SESSION,
      { id: sessionId },
      { token: session.accessToken },
    );
    expect(response.body.errors).toBeUndefined();
    await expectTokenDead(session.accessToken);
  });
});
