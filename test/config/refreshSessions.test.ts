import { ConfigError, loadConfig } from '../../src/config';

describe('REFRESH_REUSE_GRACE', () => {
  it('defaults to 10 seconds', () => {
    expect(loadConfig({}).refreshReuseGrace).toBe(10);
  });

  it.each([
    ['0', 0],
    ['0s', 0],
    ['30', 30],
    ['30s', 30],
    ['2m', 120],
    ['5m', 300],
  ])('reads %s as %p seconds', (value, seconds) => {
    expect(loadConfig({ REFRESH_REUSE_GRACE: value }).refreshReuseGrace).toBe(seconds);
  });

  it.each(['6m', '1h', 'soon', '-1', '1.5s'])('refuses %s', (value) => {
    expect(() => loadConfig({ REFRESH_REUSE_GRACE: value })).toThrow(ConfigError);
    expect(() => loadConfig({ REFRESH_REUSE_GRACE: value })).toThrow(/REFRESH_REUSE_GRACE/);
  });
});

describe('REFRESH_TOKEN_COOKIE', () => {
  it('is off by default, since API clients use the body', () => {
    expect(loadConfig({}).refreshTokenCookie).toBe(false);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
  ])('reads %s as %p', (value, expected) => {
    expect(loadConfig({ REFRESH_TOKEN_COOKIE: value }).refreshTokenCookie).toBe(expected);
  });

  it('refuses anything else', () => {
    expect(() => loadConfig({ REFRESH_TOKEN_COOKIE: 'maybe' })).toThrow(/REFRESH_TOKEN_COOKIE/);
  });
});
