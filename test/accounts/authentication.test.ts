import { sharedHashingPool } from '../../src/passwords/hashingPool';
import {
  firstError,
  GOOD_PASSWORD,
  LOGIN,
  ME,
  REGISTER,
  registerUser,
  uniqueEmail,
} from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});

afterAll(async () => {
  await api.close();
});

describe('register', () => {
  it('creates a USER and returns a working access token and a refresh token', async () => {
    const email = uniqueEmail('Mixed.Case');
    const payload = await registerUser(api, { email, name: '  Ada Lovelace ' });

    expect(payload.tokenType).toBe('Bearer');
    expect(payload.expiresIn).toBe(900);
    // <session id>.<generation>.<256-bit secret> (docs/sessions.md, "Refresh token").
    expect(payload.refreshToken).toMatch(/^[0-9a-f-]{36}\.0\.[A-Za-z0-9_-]{43}$/);
    expect(new Date(payload.refreshTokenExpiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(payload.user).toMatchObject({
      email: email.toLowerCase(),
      name: 'Ada Lovelace',
      roles: ['USER'],
    });

    const me = await api.gql(ME, {}, { token: payload.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.errors).toBeUndefined();
    expect(me.body.data?.me).toEqual(payload.user);
  });

  it('refuses an email that is already taken, in any letter case', async () => {
    const email = uniqueEmail('taken');
    await registerUser(api, { email });
    const again = await api.gql(REGISTER, {
      input: { email: `  ${email.toUpperCase()} `, password: GOOD_PASSWORD },
    });
    expect(firstError(again).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'EMAIL_TAKEN',
      field: 'email',
    });
  });

  it.each([
    ['not-an-email', 'INVALID_EMAIL', 'email'],
    ['two@@example.com', 'INVALID_EMAIL', 'email'],
    ['no-domain-dot@example', 'INVALID_EMAIL', 'email'],
  ])('refuses the email %p with %s', async (email, reason, field) => {
    const response = await api.gql(REGISTER, { input: { email, password: GOOD_PASSWORD } });
    expect(response.body.data).toBeNull();
    expect(firstError(response).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason,
      field,
    });
  });

  it('refuses a password shorter than 8 characters as WEAK_PASSWORD', async () => {
    const response = await api.gql(REGISTER, {
      input: { email: uniqueEmail(), password: 'short7!' },
    });
    expect(firstError(response).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'WEAK_PASSWORD',
      field: 'password',
    });
  });

  it('refuses a password over 72 bytes instead of letting bcrypt truncate it', async () => {
    // 37 two-byte characters: 37 characters, 74 bytes.
    const response = await api.gql(REGISTER, {
      input: { email: uniqueEmail(), password: 'é'.repeat(37) },
    });
    expect(firstError(response).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'PASSWORD_TOO_LONG',
      field: 'password',
    });
  });

  it('accepts a password of exactly 72 bytes', async () => {
    const payload = await registerUser(api, { password: 'p'.repeat(72) });
    expect(payload.accessToken).toBeTruthy();
  });

  it('creates exactly one user out of 20 concurrent registrations of one email', async () => {
    const email = uniqueEmail('race');
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_unused, i) =>
        api.gql(REGISTER, {
          input: { email: i % 2 ? email.toUpperCase() : email, password: GOOD_PASSWORD },
        }),
      ),
    );
    const winners = responses.filter((response) => response.body.data?.register);
    const losers = responses.filter((response) => response.body.errors);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const loser of losers) {
      expect(loser.status).toBe(200);
      expect(firstError(loser).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'EMAIL_TAKEN',
      });
    }
    expect(await api.database.models.User.countDocuments({ email: email.toLowerCase() })).toBe(1);
  });

  it('stores a bcrypt hash, never the password, and never exposes it', async () => {
    const email = uniqueEmail('hash');
    await registerUser(api, { email });
    const stored = await api.database.models.User.findOne({ email }).lean();
    expect(stored?.passwordHash).toMatch(/^\$2[aby]\$04\$/);
    expect(JSON.stringify(stored)).not.toContain(GOOD_PASSWORD);
  });
});

describe('login', () => {
  it('signs in with the registered password, whatever the email letter case', async () => {
    const email = uniqueEmail('login');
    const registered = await registerUser(api, { email });
    const response = await api.gql(LOGIN, {
      input: { email: email.toUpperCase(), password: GOOD_PASSWORD },
    });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.login.user.id).toBe(registered.user.id);
    expect(response.body.data?.login.refreshToken).not.toBe(registered.refreshToken);
  });

  it('rejects a wrong password with the same message as an unknown email', async () => {
    const email = uniqueEmail('victim');
    await registerUser(api, { email });
    const wrongPassword = await api.gql(LOGIN, { input: { email, password: 'not the password' } });
    const unknownEmail = await api.gql(LOGIN, {
      input: { email: uniqueEmail('nobody'), password: 'not the password' },
    });
    const invalidEmail = await api.gql(LOGIN, { input: { email: 'nonsense', password: 'x' } });

    for (const response of [wrongPassword, unknownEmail, invalidEmail]) {
      expect(response.status).toBe(200);
      expect(response.body.data).toBeNull();
      expect(response.body.errors).toHaveLength(1);
    }
    const [a, b, c] = [wrongPassword, unknownEmail, invalidEmail].map((r) => firstError(r));
    expect(a).toEqual(b);
    expect(a).toEqual(c);
    expect(a?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
  });

  it('spends exactly one bcrypt comparison on an unknown email, as on a known one', async () => {
    // Equal work is what makes the timing equal; the benchmark measures the timing itself.
    const email = uniqueEmail('timing');
    await registerUser(api, { email });
    const compare = jest.spyOn(sharedHashingPool(), 'compare');
    try {
      await api.gql(LOGIN, { input: { email, password: 'wrong password' } });
      expect(compare).toHaveBeenCalledTimes(1);
      compare.mockClear();
      await api.gql(LOGIN, { input: { email: uniqueEmail('ghost'), password: 'wrong password' } });
      expect(compare).toHaveBeenCalledTimes(1);
    } finally {
      compare.mockRestore();
    }
  });

  it('rejects a password that only matches after bcrypt would truncate it', async () => {
    const email = uniqueEmail('trunc');
    const password = 'a'.repeat(72);
    await registerUser(api, { email, password });
    const response = await api.gql(LOGIN, { input: { email, password: `${password}extra` } });
    expect(firstError(response).extensions).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
  });
});
