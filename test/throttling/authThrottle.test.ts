import { sharedHashingPool } from '../../src/passwords/hashingPool';
import { clientBucket } from '../../src/throttling/authThrottle';
import {
  firstError,
  GOOD_PASSWORD,
  LOGIN,
  REFRESH,
  REGISTER,
  registerUser,
  uniqueEmail,
  type AuthPayload,
} from '../helpers/operations';
import {
  startTestServer,
  uniqueDbName,
  type GraphQLResponse,
  type TestServer,
} from '../helpers/testServer';

type LoginResponse = GraphQLResponse<{ login: Omit<AuthPayload, 'refreshToken'> }>;

let forwarded = 0;

/** A different X-Forwarded-For on every call, as an attacker rotating it would send. */
function rotatingForwardedFor(): Record<string, string> {
  forwarded += 1;
  return { 'x-forwarded-for': `198.51.100.${forwarded % 250}` };
}

function login(api: TestServer, email: string, password: string): Promise<LoginResponse> {
  return api.gql(LOGIN, { input: { email, password } }, { headers: rotatingForwardedFor() });
}

async function failLogins(api: TestServer, email: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const response = await login(api, email, `wrong password ${i}`);
    expect(firstError(response).extensions).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
  }
}

function expectRateLimited(response: LoginResponse): number {
  expect(response.status).toBe(200);
  expect(response.body.data).toBeNull();
  const error = firstError(response);
  expect(error.path).toEqual(['login']);
  expect(Object.keys(error.extensions ?? {})).toEqual(['code', 'retryAfter']);
  expect(error.extensions?.code).toBe('RATE_LIMITED');
  const retryAfter = error.extensions?.retryAfter as number;
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(response.headers.get('retry-after')).toBe(String(retryAfter));
  return retryAfter;
}

function aliasedLogins(email: string, count: number): string {
  const fields = Array.from(
    { length: count },
    (_unused, i) =>
      `a${i}: login(input: { email: ${JSON.stringify(email)}, password: "guess number ${i}" }) { accessToken }`,
  );
  return `mutation { ${fields.join('\n')} }`;
}

describe('login throttling per account', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
  });

  afterAll(async () => {
    await api.close();
  });

  it('refuses the sixth attempt within 15 minutes, even with the right password', async () => {
    const email = uniqueEmail('locked');
    await registerUser(api, { email });
    await failLogins(api, email, 5);

    const retryAfter = expectRateLimited(await login(api, email, GOOD_PASSWORD));
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  });

  it('counts the normalised email, whatever its letter case or spacing', async () => {
    const email = uniqueEmail('cased');
    await registerUser(api, { email });
    await failLogins(api, email.toUpperCase(), 3);
    await failLogins(api, `  ${email} `, 2);
    expectRateLimited(await login(api, email, GOOD_PASSWORD));
  });

  it('leaves other accounts alone', async () => {
    const victim = uniqueEmail('victim');
    const bystander = uniqueEmail('bystander');
    await registerUser(api, { email: victim });
    await registerUser(api, { email: bystander });
    await failLogins(api, victim, 5);

    const response = await login(api, bystander, GOOD_PASSWORD);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.login.user.email).toBe(bystander);
  });

  it('throttles an unknown email exactly like a real one, so it reveals nothing', async () => {
    const known = uniqueEmail('known');
    const unknown = uniqueEmail('unknown');
    await registerUser(api, { email: known });
    await failLogins(api, known, 5);
    await failLogins(api, unknown, 5);

    const fromKnown = firstError(await login(api, known, 'another guess'));
    const fromUnknown = firstError(await login(api, unknown, 'another guess'));
    expect(fromUnknown.extensions?.code).toBe('RATE_LIMITED');
    // Only the countdown may differ, by the time between the two requests.
    const withoutCountdown = (error: typeof fromKnown) =>
      JSON.stringify(error).replace(/\d+/g, 'N');
    expect(withoutCountdown(fromUnknown)).toBe(withoutCountdown(fromKnown));
  });

  it('forgives earlier failures after a successful login', async () => {
    const email = uniqueEmail('forgiven');
    await registerUser(api, { email });
    await failLogins(api, email, 4);
    expect((await login(api, email, GOOD_PASSWORD)).body.errors).toBeUndefined();
    await failLogins(api, email, 4);
    expect((await login(api, email, GOOD_PASSWORD)).body.errors).toBeUndefined();
  });

  it('spends no bcrypt comparison on a throttled attempt', async () => {
    const email = uniqueEmail('nohash');
    await registerUser(api, { email });
    await failLogins(api, email, 5);
    const compare = jest.spyOn(sharedHashingPool(), 'compare');
    try {
      expectRateLimited(await login(api, email, GOOD_PASSWORD));
      expect(compare).not.toHaveBeenCalled();
    } finally {
      compare.mockRestore();
    }
  });

  it('lets 20 concurrent guesses evaluate at most 5 passwords', async () => {
    const email = uniqueEmail('burst');
    await registerUser(api, { email });
    const compare = jest.spyOn(sharedHashingPool(), 'compare');
    try {
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_unused, i) => login(api, email, `concurrent guess ${i}`)),
      );
      const codes = responses.map((response) => firstError(response).extensions?.code);
      expect(codes.filter((code) => code === 'UNAUTHENTICATED').length).toBeLessThanOrEqual(5);
      expect(codes.filter((code) => code === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(15);
      expect(compare.mock.calls.length).toBeLessThanOrEqual(5);
    } finally {
      compare.mockRestore();
    }
  });
});

describe('login throttling against aliased batches', () => {
  it('refuses a document with 20 aliased logins before evaluating any password', async () => {
    const api = await startTestServer();
    try {
      const email = uniqueEmail('aliases');
      await registerUser(api, { email });
      const compare = jest.spyOn(sharedHashingPool(), 'compare');
      try {
        const response = await api.gql(aliasedLogins(email, 20));
        expect(response.status).toBe(400);
        expect(firstError(response).extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(compare).not.toHaveBeenCalled();
      } finally {
        compare.mockRestore();
      }
    } finally {
      await api.close();
    }
  });

  it('stops a batch of aliased guesses at the first wrong password', async () => {
    // login is non-null, so its first error nulls the whole mutation and later aliases never run.
    const api = await startTestServer({ env: { GRAPHQL_MAX_ALIASES: '50' } });
    try {
      const email = uniqueEmail('aliases');
      await registerUser(api, { email });
      const compare = jest.spyOn(sharedHashingPool(), 'compare');
      try {
        const response = await api.gql(aliasedLogins(email, 20));
        expect(response.body.data).toBeNull();
        expect(response.body.errors).toHaveLength(1);
        expect(firstError(response)).toMatchObject({
          path: ['a0'],
          extensions: { reason: 'INVALID_CREDENTIALS' },
        });
        expect(compare).toHaveBeenCalledTimes(1);
      } finally {
        compare.mockRestore();
      }
    } finally {
      await api.close();
    }
  });

  it('counts every aliased failed login against the per-IP ceiling', async () => {
    const api = await startTestServer({ env: { GRAPHQL_MAX_ALIASES: '50', AUTH_IP_LIMIT: '4' } });
    try {
      const email = uniqueEmail('aliases');
      await registerUser(api, { email });
      // The registration used one place of the IP's four; each failed login below uses another.
      for (let i = 0; i < 3; i += 1) {
        const response = await api.gql(aliasedLogins(uniqueEmail('nobody'), 1));
        expect(firstError(response).extensions?.reason).toBe('INVALID_CREDENTIALS');
      }
      const compare = jest.spyOn(sharedHashingPool(), 'compare');
      try {
        const fields = Array.from(
          { length: 10 },
          (_unused, i) =>
            `a${i}: login(input: { email: "${email}", password: "${GOOD_PASSWORD}" }) { accessToken }`,
        );
        const response = await api.gql(`mutation { ${fields.join('\n')} }`);
        expect(response.body.data).toBeNull();
        expect(firstError(response)).toMatchObject({
          path: ['a0'],
          extensions: { code: 'RATE_LIMITED' },
        });
        expect(compare).not.toHaveBeenCalled();
        expect(response.headers.get('retry-after')).toBe(
          String(firstError(response).extensions?.retryAfter),
        );
      } finally {
        compare.mockRestore();
      }
    } finally {
      await api.close();
    }
  });
});

describe('login throttling with a short window', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ env: { LOGIN_FAILURE_WINDOW: '2s' } });
  });

  afterAll(async () => {
    await api.close();
  });

  it('refuses the right password during the window and accepts it once the window has passed', async () => {
    const email = uniqueEmail('window');
    await registerUser(api, { email });
    await failLogins(api, email, 5);
    const retryAfter = expectRateLimited(await login(api, email, GOOD_PASSWORD));
    expect(retryAfter).toBeLessThanOrEqual(2);

    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
    const response = await login(api, email, GOOD_PASSWORD);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.login.user.email).toBe(email);
  });
});

describe('login throttling across instances', () => {
  it('shares the counters of two API instances on one database', async () => {
    const dbName = uniqueDbName();
    const first = await startTestServer({ dbName });
    const second = await startTestServer({ dbName });
    try {
      const email = uniqueEmail('shared');
      await registerUser(first, { email });
      await failLogins(first, email, 3);
      await failLogins(second, email, 2);
      expectRateLimited(await login(first, email, GOOD_PASSWORD));
      expectRateLimited(await login(second, email, GOOD_PASSWORD));
    } finally {
      await second.close();
      await first.database.connection.dropDatabase();
      await first.close();
    }
  });
});

describe('throttling per client IP', () => {
  it('ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
    const api = await startTestServer({ env: { AUTH_IP_LIMIT: '3' } });
    try {
      for (let i = 0; i < 3; i += 1) {
        const response = await login(api, uniqueEmail('ip'), 'some password');
        expect(firstError(response).extensions?.code).toBe('UNAUTHENTICATED');
      }
      expectRateLimited(await login(api, uniqueEmail('ip'), 'some password'));
    } finally {
      await api.close();
    }
  });

  it('counts registrations, failed logins and failed refreshes against one ceiling', async () => {
    const api = await startTestServer({ env: { AUTH_IP_LIMIT: '3' } });
    try {
      const session = await registerUser(api);
      // Successes are free (docs/security.md, "What the per-IP ceiling counts").
      await login(api, session.user.email, GOOD_PASSWORD);
      const rotated = await api.gql(REFRESH, { refreshToken: session.refreshToken });
      expect(rotated.body.errors).toBeUndefined();
      await login(api, session.user.email, 'wrong password');
      await api.gql(REFRESH, { refreshToken: 'not a refresh token' });
      const register = await api.gql(REGISTER, {
        input: { email: uniqueEmail(), password: GOOD_PASSWORD },
      });
      expect(firstError(register).extensions?.code).toBe('RATE_LIMITED');
      expect(register.headers.get('retry-after')).toBe(
        String(firstError(register).extensions?.retryAfter),
      );
      const refresh = await api.gql(REFRESH, {
        refreshToken: rotated.body.data!.refreshToken.refreshToken,
      });
      expect(firstError(refresh).extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await api.close();
    }
  });

  it('uses X-Forwarded-For as the client IP when TRUST_PROXY is on', async () => {
    const api = await startTestServer({ env: { AUTH_IP_LIMIT: '2', TRUST_PROXY: 'true' } });
    try {
      const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
      const attempt = (ip: string) =>
        api.gql(LOGIN, { input: { email: uniqueEmail(), password: 'x' } }, from(ip));
      await attempt('203.0.113.7');
      await attempt('203.0.113.7');
      expect(firstError(await attempt('203.0.113.7')).extensions?.code).toBe('RATE_LIMITED');
      expect(firstError(await attempt('203.0.113.8')).extensions?.code).toBe('UNAUTHENTICATED');

      const session = await api.gql(
        REGISTER,
        { input: { email: uniqueEmail('proxied'), password: GOOD_PASSWORD } },
        from('203.0.113.9'),
      );
      const stored = await api.database.models.Session.findOne({
        userId: session.body.data?.register.user.id,
      }).lean();
      expect(stored?.ip).toBe('203.0.113.9');
    } finally {
      await api.close();
    }
  });
});

describe('clientBucket', () => {
  it.each([
    ['198.51.100.7', 'ip:198.51.100.7'],
    ['::ffff:198.51.100.7', 'ip:198.51.100.7'],
    ['2001:db8:1:2:3:4:5:6', 'ip:2001:db8:1:2::/64'],
    ['2001:0db8:0000:0002::9', 'ip:2001:db8:0:2::/64'],
    ['2001:db8::1', 'ip:2001:db8:0:0::/64'],
    ['::1', 'ip:0:0:0:0::/64'],
  ])('puts %s in %s', (ip, bucket) => {
    expect(clientBucket(ip)).toBe(bucket);
  });

  it('gives every address of one IPv6 /64 the same bucket', () => {
    expect(clientBucket('2001:db8:aa:bb::1')).toBe(clientBucket('2001:db8:aa:bb:ffff:1:2:3'));
    expect(clientBucket('2001:db8:aa:bb::1')).not.toBe(clientBucket('2001:db8:aa:bc::1'));
  });
});
