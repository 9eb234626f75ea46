import { firstError, ME, registerUser, type AuthPayload } from '../helpers/operations';
import { refresh, sessionIdOf } from '../helpers/sessions';
import { startTestServer, type TestServer } from '../helpers/testServer';

let api: TestServer;
let shortGrace: TestServer;
let strict: TestServer;

beforeAll(async () => {
  [api, shortGrace, strict] = await Promise.all([
    startTestServer(),
    startTestServer({ env: { REFRESH_REUSE_GRACE: '1s' } }),
    startTestServer({ env: { REFRESH_REUSE_GRACE: '0' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([api.close(), shortGrace.close(), strict.close()]);
});

async function successorOf(server: TestServer, token: string): Promise<AuthPayload> {
  const response = await refresh(server, token);
  expect(response.body.errors).toBeUndefined();
  return response.body.data!.refreshToken;
}

function expectRefused(response: Awaited<ReturnType<typeof refresh>>): void {
  expect(firstError(response).extensions).toMatchObject({
    code: 'UNAUTHENTICATED',
    reason: 'INVALID_REFRESH_TOKEN',
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('refresh grace window (REFRESH_REUSE_GRACE)', () => {
  it('answers the token just exchanged with the same successor and a new access token', async () => {
    const session = await registerUser(api);
    const first = await successorOf(api, session.refreshToken);
    const again = await successorOf(api, session.refreshToken);
    expect(again.refreshToken).toBe(first.refreshToken);
    expect(again.refreshTokenExpiresAt).toBe(first.refreshTokenExpiresAt);
    expect(again.accessToken).not.toBe(first.accessToken);
    expect(sessionIdOf(again.accessToken)).toBe(sessionIdOf(session.accessToken));
    expect((await api.gql(ME, {}, { token: again.accessToken })).body.errors).toBeUndefined();
    // The successor goes on rotating as usual.
    expect((await successorOf(api, first.refreshToken)).refreshToken).toMatch(/\.2\./);
  });

  it('gives every one of 10 concurrent refreshes of one token the same successor', async () => {
    const session = await registerUser(api);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => refresh(api, session.refreshToken)),
    );
    for (const response of responses) expect(response.body.errors).toBeUndefined();
    const successors = new Set(responses.map((r) => r.body.data!.refreshToken.refreshToken));
    expect(successors.size).toBe(1);
    const [successor] = [...successors];
    expect((await successorOf(api, successor!)).refreshToken).toMatch(/\.2\./);
  });

  it('survives a lost response: the retry gets the successor the first answer carried', async () => {
    const session = await registerUser(api);
    // The answer to this one never reaches the client.
    const lost = await successorOf(api, session.refreshToken);
    const retried = await successorOf(api, session.refreshToken);
    expect(retried.refreshToken).toBe(lost.refreshToken);
    const next = await successorOf(api, retried.refreshToken);
    expect(next.refreshToken).toMatch(/\.2\./);
  });

  it('treats the token as reused once its successor has been exchanged too', async () => {
    const session = await registerUser(api);
    const first = await successorOf(api, session.refreshToken);
    const second = await successorOf(api, first.refreshToken);
    expectRefused(await refresh(api, session.refreshToken));
    expectRefused(await refresh(api, second.refreshToken));
  });

  it('revokes the whole session when the token comes back after the window', async () => {
    const session = await registerUser(shortGrace);
    const successor = await successorOf(shortGrace, session.refreshToken);
    await sleep(1500);
    expectRefused(await refresh(shortGrace, session.refreshToken));
    // The legitimate successor dies with its family, and so do the session's access tokens.
    expectRefused(await refresh(shortGrace, successor.refreshToken));
    expect(
      firstError(await shortGrace.gql(ME, {}, { token: successor.accessToken })).extensions?.reason,
    ).toBe('INVALID_TOKEN');
  });

  it('keeps strict reuse detection when set to 0', async () => {
    const session = await registerUser(strict);
    const successor = await successorOf(strict, session.refreshToken);
    expectRefused(await refresh(strict, session.refreshToken));
    expectRefused(await refresh(strict, successor.refreshToken));
  });

  it('refuses a token of a session revoked meanwhile, without a new successor', async () => {
    const session = await registerUser(api);
    await successorOf(api, session.refreshToken);
    await api.server.services.auth.logout(session.refreshToken);
    expectRefused(await refresh(api, session.refreshToken));
  });

  it('stores no token in clear, and as many documents per session as before', async () => {
    const session = await registerUser(api);
    let token = session.refreshToken;
    const handed: string[] = [token];
    for (let i = 0; i < 8; i += 1) {
      token = (await successorOf(api, token)).refreshToken;
      handed.push(token);
    }
    const sessionId = sessionIdOf(session.accessToken);
    const { Session, RefreshSecret } = api.database.models;
    const stored = JSON.stringify([
      await Session.find({ _id: sessionId }).lean(),
      await RefreshSecret.find({ sessionId }).lean(),
    ]);
    for (const issued of handed) expect(stored).not.toContain(issued.split('.')[2]);
    // The newest token and the four before it (docs/data-model.md).
    expect(await RefreshSecret.countDocuments({ sessionId })).toBe(5);
  });
});
