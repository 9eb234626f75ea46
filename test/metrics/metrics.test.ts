import {
  firstError,
  GOOD_PASSWORD,
  LOGIN,
  REFRESH,
  REGISTER,
  registerUser,
  uniqueEmail,
} from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

// docs/operations.md, "Metrics".

async function scrape(api: TestServer): Promise<string> {
  const base = api.server.metricsUrl;
  if (!base) throw new Error('the metrics listener is not running');
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of one sample, `name{labels}`, or 0 when it has not been written yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('/metrics on METRICS_PORT', () => {
  let api: TestServer;

  beforeAll(async () => {
    // No grace window: a rotated token presented again is reuse at once (docs/sessions.md).
    api = await startTestServer({
      env: { METRICS_PORT: '0', REGISTER_EMAIL_LIMIT: '1', REFRESH_REUSE_GRACE: '0' },
    });
  });

  afterAll(async () => {
    await api.close();
  });

  it('listens apart from the API, on the API host, and is absent from the API port', async () => {
    const metricsUrl = new URL(api.server.metricsUrl!);
    const apiUrl = new URL(api.url);
    expect(metricsUrl.hostname).toBe(apiUrl.hostname);
    expect(metricsUrl.port).not.toBe(apiUrl.port);
    expect((await fetch(`${api.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${api.server.metricsUrl}/graphql`)).status).toBe(404);
  });

  it('counts logins, registrations, refreshes and reuse by outcome', async () => {
    const before = await scrape(api);
    const session = await registerUser(api);
    await api.gql(LOGIN, { input: { email: session.user.email, password: GOOD_PASSWORD } });
    await api.gql(LOGIN, { input: { email: session.user.email, password: 'wrong password' } });
    await api.gql(LOGIN, { input: { email: uniqueEmail('nobody'), password: 'wrong password' } });
    const rotated = await api.gql(REFRESH, { refreshToken: session.refreshToken });
    expect(rotated.body.errors).toBeUndefined();
    const reused = await api.gql(REFRESH, { refreshToken: session.refreshToken });
    expect(firstError(reused).extensions?.reason).toBe('INVALID_REFRESH_TOKEN');
    const taken = await api.gql(REGISTER, {
      input: { email: uniqueEmail('again'), password: GOOD_PASSWORD },
    });
    expect(taken.body.errors).toBeUndefined();
    const after = await scrape(api);

    const moved = (series: string) => sample(after, series) - sample(before, series);
    expect(moved('auth_registrations_total{outcome="success"}')).toBe(2);
    expect(moved('auth_login_attempts_total{outcome="success"}')).toBe(1);
    expect(moved('auth_login_attempts_total{outcome="invalid_credentials"}')).toBe(2);
    expect(moved('auth_refreshes_total{outcome="success"}')).toBe(1);
    expect(moved('auth_refreshes_total{outcome="reuse_detected"}')).toBe(1);
    expect(moved('auth_refreshes_total{outcome="invalid_refresh_token"}')).toBe(0);
  });

  it('counts a refresh with an unknown token apart from reuse', async () => {
    const before = await scrape(api);
    await api.gql(REFRESH, { refreshToken: 'not a refresh token' });
    const after = await scrape(api);
    const series = 'auth_refreshes_total{outcome="invalid_refresh_token"}';
    expect(sample(after, series) - sample(before, series)).toBe(1);
  });

  it('counts throttle refusals by kind of bucket', async () => {
    const before = await scrape(api);
    const email = uniqueEmail('once');
    await registerUser(api, { email });
    const taken = await api.gql(REGISTER, { input: { email, password: GOOD_PASSWORD } });
    expect(firstError(taken).extensions?.reason).toBe('EMAIL_TAKEN');
    const refused = await api.gql(REGISTER, { input: { email, password: GOOD_PASSWORD } });
    expect(firstError(refused).extensions?.code).toBe('RATE_LIMITED');
    const after = await scrape(api);
    const series = 'auth_throttle_refusals_total{throttle="register"}';
    expect(sample(after, series) - sample(before, series)).toBe(1);
    expect(
      sample(after, 'auth_registrations_total{outcome="rate_limited"}') -
        sample(before, 'auth_registrations_total{outcome="rate_limited"}'),
    ).toBe(1);
  });

  it('reports the hashing queue, its waits, request latency and the process', async () => {
    await registerUser(api);
    const text = await scrape(api);
    expect(text).toMatch(/^password_hashing_queue_depth \d+$/m);
    expect(text).toMatch(/^password_hashing_running \d+$/m);
    expect(sample(text, 'password_hashing_wait_seconds_count')).toBeGreaterThan(0);
    expect(
      sample(
        text,
        'http_request_duration_seconds_count{method="POST",route="/graphql",status_code="200"}',
      ),
    ).toBeGreaterThan(0);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });
});

describe('metrics per server', () => {
  it('are off without METRICS_PORT', async () => {
    const api = await startTestServer();
    try {
      expect(api.server.metricsUrl).toBeUndefined();
      expect((await fetch(`${api.url}/metrics`)).status).toBe(404);
    } finally {
      await api.close();
    }
  });

  it('keep two servers of one process apart, and close with their server', async () => {
    const first = await startTestServer({ env: { METRICS_PORT: '0' } });
    const second = await startTestServer({ env: { METRICS_PORT: '0' } });
    try {
      await registerUser(first);
      const series = 'auth_registrations_total{outcome="success"}';
      expect(sample(await scrape(first), series)).toBe(1);
      expect(sample(await scrape(second), series)).toBe(0);
    } finally {
      await second.close();
    }
    const url = first.server.metricsUrl!;
    await first.close();
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });
});
