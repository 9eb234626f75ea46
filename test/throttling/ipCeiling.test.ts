import { loadConfig } from '../../src/config';
import {
  firstError,
  GOOD_PASSWORD,
  LOGIN,
  REFRESH,
  REGISTER,
  registerUser,
  uniqueEmail,
} from '../helpers/operations';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/testServer';

// docs/security.md, "What the per-IP ceiling counts" and "Registration".

/** Requests as if from `ip`, through the one trusted proxy of these servers. */
function from(ip: string) {
  return { headers: { 'x-forwarded-for': ip } };
}

/** A refresh token of the right shape that no session has. */
async function revokedRefreshToken(api: TestServer, ip: string): Promise<string> {
  const session = await api.gql(
    REGISTER,
    { input: { email: uniqueEmail('revoked'), password: GOOD_PASSWORD } },
    from(ip),
  );
  const token = session.body.data!.register.refreshToken!;
  await api.gql('mutation ($t: String!) { logout(refreshToken: $t) }', { t: token }, from(ip));
  return token;
}

describe('the per-IP ceiling (AUTH_IP_LIMIT, default 300 per 15 minutes)', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ env: { TRUST_PROXY: '1' } });
  });

  afterAll(async () => {
    await api.close();
  });

  it('never refuses 400 successful refreshes of 20 sessions behind one address', async () => {
    const office = '203.0.113.10';
    const tokens: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const response = await api.gql(
        REGISTER,
        { input: { email: uniqueEmail('office'), password: GOOD_PASSWORD } },
        from(office),
      );
      tokens.push(response.body.data!.register.refreshToken!);
    }
    for (let round = 0; round < 20; round += 1) {
      const responses = await Promise.all(
        tokens.map((token) => api.gql(REFRESH, { refreshToken: token }, from(office))),
      );
      responses.forEach((response, i) => {
        expect(response.body.errors).toBeUndefined();
        tokens[i] = response.body.data!.refreshToken.refreshToken!;
      });
    }
  }, 120_000);

  it('refuses an address once it has failed 300 refreshes, a good token included', async () => {
    const address = '203.0.113.11';
    const registered = await api.gql(
      REGISTER,
      { input: { email: uniqueEmail('good'), password: GOOD_PASSWORD } },
      from(address),
    );
    const good = registered.body.data!.register.refreshToken!;
    const stale = await revokedRefreshToken(api, '203.0.113.12');
    // The registration above counted once.
    for (let i = 0; i < 299; i += 1) {
      const response = await api.gql(REFRESH, { refreshToken: stale }, from(address));
      expect(firstError(response).extensions).toMatchObject({ reason: 'INVALID_REFRESH_TOKEN' });
    }
    const refused = await api.gql(REFRESH, { refreshToken: good }, from(address));
    expect(firstError(refused).extensions?.code).toBe('RATE_LIMITED');
    expect(refused.headers.get('retry-after')).toBe(
      String(firstError(refused).extensions?.retryAfter),
    );
    // Another address is untouched.
    const elsewhere = await api.gql(REFRESH, { refreshToken: good }, from('203.0.113.13'));
    expect(elsewhere.body.errors).toBeUndefined();
  }, 120_000);
});

describe('logins against the per-IP ceiling', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ env: { TRUST_PROXY: '1', AUTH_IP_LIMIT: '3' } });
  });

  afterAll(async () => {
    await api.close();
  });

  it('does not count successful logins', async () => {
    const address = '198.51.100.20';
    const { user } = await registerUser(api);
    for (let i = 0; i < 6; i += 1) {
      const response = await api.gql(
        LOGIN,
        { input: { email: user.email, password: GOOD_PASSWORD } },
        from(address),
      );
      expect(response.body.errors).toBeUndefined();
    }
  });

  it('counts wrong passwords and unknown accounts, then refuses even the right password', async () => {
    const address = '198.51.100.21';
    const { user } = await registerUser(api);
    const attempt = (email: string, password: string) =>
      api.gql(LOGIN, { input: { email, password } }, from(address));
    expect(firstError(await attempt(user.email, 'wrong password')).extensions?.reason).toBe(
      'INVALID_CREDENTIALS',
    );
    expect(firstError(await attempt(uniqueEmail('nobody'), 'x')).extensions?.reason).toBe(
      'INVALID_CREDENTIALS',
    );
    expect(firstError(await attempt(uniqueEmail('nobody'), 'x')).extensions?.reason).toBe(
      'INVALID_CREDENTIALS',
    );
    expect(firstError(await attempt(user.email, GOOD_PASSWORD)).extensions?.code).toBe(
      'RATE_LIMITED',
    );
  });
});

describe('registration limits', () => {
  it('defaults to a per-IP registration limit below the general ceiling', () => {
    const { rateLimit, registrationLimits } = loadConfig({ JWT_SECRET: TEST_JWT_SECRET });
    expect(registrationLimits).toEqual({
      ipLimit: 50,
      ipWindow: 3600,
      emailLimit: 5,
      emailWindow: 3600,
    });
    expect(registrationLimits.ipLimit).toBeLessThan(rateLimit.ipLimit);
  });

  it('refuses an address past REGISTER_IP_LIMIT, whatever the emails', async () => {
    const api = await startTestServer({ env: { TRUST_PROXY: '1', REGISTER_IP_LIMIT: '3' } });
    try {
      const register = (ip: string) =>
        api.gql(REGISTER, { input: { email: uniqueEmail(), password: GOOD_PASSWORD } }, from(ip));
      for (let i = 0; i < 3; i += 1) {
        expect((await register('192.0.2.30')).body.errors).toBeUndefined();
      }
      const refused = await register('192.0.2.30');
      expect(firstError(refused).extensions?.code).toBe('RATE_LIMITED');
      expect(refused.headers.get('retry-after')).toBe(
        String(firstError(refused).extensions?.retryAfter),
      );
      expect((await register('192.0.2.31')).body.errors).toBeUndefined();
    } finally {
      await api.close();
    }
  });

  it('stops probing one address for EMAIL_TAKEN past REGISTER_EMAIL_LIMIT, from any IP', async () => {
    const api = await startTestServer({ env: { TRUST_PROXY: '1', REGISTER_EMAIL_LIMIT: '2' } });
    try {
      const email = uniqueEmail('probed');
      const register = (address: string, ip: string) =>
        api.gql(REGISTER, { input: { email: address, password: GOOD_PASSWORD } }, from(ip));
      expect((await register(email, '192.0.2.40')).body.errors).toBeUndefined();
      expect(firstError(await register(email, '192.0.2.41')).extensions?.reason).toBe(
        'EMAIL_TAKEN',
      );
      // Letter case and spacing do not make another address.
      expect(
        firstError(await register(` ${email.toUpperCase()}`, '192.0.2.42')).extensions?.reason,
      ).toBe('EMAIL_TAKEN');
      const refused = await register(email, '192.0.2.43');
      expect(firstError(refused).extensions?.code).toBe('RATE_LIMITED');
      expect(firstError(refused).extensions?.reason).toBeUndefined();
    } finally {
      await api.close();
    }
  });

  it('answers every loser of concurrent sign-ups for one address EMAIL_TAKEN', async () => {
    const api = await startTestServer({ env: { REGISTER_EMAIL_LIMIT: '2' } });
    try {
      const email = uniqueEmail('race');
      const responses = await Promise.all(
        Array.from({ length: 8 }, () =>
          api.gql(REGISTER, { input: { email, password: GOOD_PASSWORD } }),
        ),
      );
      const reasons = responses.map((response) =>
        response.body.errors ? response.body.errors[0]?.extensions?.reason : 'registered',
      );
      expect(reasons.sort()).toEqual([...Array<string>(7).fill('EMAIL_TAKEN'), 'registered']);
    } finally {
      await api.close();
    }
  });
});
