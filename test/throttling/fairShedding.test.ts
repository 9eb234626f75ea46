import { performance } from 'node:perf_hooks';
import { sharedHashingPool } from '../../src/passwords/hashingPool';
import { GOOD_PASSWORD, LOGIN, REGISTER, uniqueEmail } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

// docs/security.md, "Password hashing under load": one address flooding `login` waits behind its
// own hashes, and anyone else still signs in promptly.

const FLOOD = 200;
const ATTACKER = '203.0.113.66';
const VICTIM = '198.51.100.77';

describe('fair load shedding of password hashing', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ env: { BCRYPT_COST: '12', TRUST_PROXY: '1' } });
  }, 60_000);

  afterAll(async () => {
    await api.close();
  });

  it('signs in another address within 2 s while one floods login with 200 unknown emails', async () => {
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const email = uniqueEmail('bystander');
    const registered = await api.gql(
      REGISTER,
      { input: { email, password: GOOD_PASSWORD } },
      from(VICTIM),
    );
    expect(registered.body.errors).toBeUndefined();

    // Each with an address of its own, so the per-account throttle stops none of them.
    let answered = 0;
    const flood = Array.from({ length: FLOOD }, (_unused, i) =>
      api
        .gql(
          LOGIN,
          { input: { email: uniqueEmail(`flood${i}`), password: 'guess' } },
          from(ATTACKER),
        )
        .finally(() => {
          answered += 1;
        }),
    );
    // In the thick of it: what is refused at once has been refused, and the address's share of
    // hashes is queued, several seconds of work at cost 12.
    const pool = sharedHashingPool();
    const floodedBy = Date.now() + 30_000;
    while ((pool.load().waiting < 8 || answered < FLOOD / 2) && Date.now() < floodedBy) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(pool.load().waiting).toBeGreaterThanOrEqual(8);

    const startedAt = performance.now();
    const login = await api.gql(LOGIN, { input: { email, password: GOOD_PASSWORD } }, from(VICTIM));
    const elapsedMs = performance.now() - startedAt;
    expect(login.body.errors).toBeUndefined();
    expect(login.body.data?.login.user.email).toBe(email);
    expect(elapsedMs).toBeLessThan(2000);

    const answers = await Promise.all(flood);
    const codes = answers.map((answer) => answer.body.errors?.[0]?.extensions?.code);
    // The flood's share of the pool is all it gets: the rest is refused at once.
    expect(codes.filter((code) => code === 'RATE_LIMITED').length).toBeGreaterThan(0);
    expect(codes.every((code) => code === 'RATE_LIMITED' || code === 'UNAUTHENTICATED')).toBe(true);
  }, 120_000);
});
