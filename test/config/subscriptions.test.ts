import { ConfigError, loadConfig } from '../../src/config';

describe('subscription settings', () => {
  it('defaults to in-process events and documented limits', () => {
    expect(loadConfig({}).subscriptions).toEqual({
      maxConnectionsPerUser: 20,
      maxConnectionsPerIp: 100,
      maxPayloadBytes: 16384,
      initTimeoutMs: 3000,
      sessionCheckIntervalMs: 30_000,
      redisUrl: undefined,
    });
  });

  it('reads REDIS_URL and the limits', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://cache.internal:6380/0',
      SUBSCRIPTION_MAX_CONNECTIONS_PER_USER: '5',
      SUBSCRIPTION_SESSION_CHECK: '5s',
    });
    expect(config.subscriptions).toMatchObject({
      redisUrl: 'rediss://cache.internal:6380/0',
      maxConnectionsPerUser: 5,
      sessionCheckIntervalMs: 5000,
    });
  });

  it.each([
    ['REDIS_URL', 'http://cache:6379'],
    ['SUBSCRIPTION_MAX_CONNECTIONS_PER_USER', '0'],
    ['SUBSCRIPTION_MAX_PAYLOAD', '10'],
    ['SUBSCRIPTION_INIT_TIMEOUT', 'soon'],
  ])('refuses %s=%s', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(variable);
  });
});
