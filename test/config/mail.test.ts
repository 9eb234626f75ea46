import { ConfigError, loadConfig } from '../../src/config';

const STRONG_SECRET = 'a-strong-secret-that-is-long-enough-for-hs256';
const PRODUCTION = {
  NODE_ENV: 'production',
  MONGODB_URI: 'mongodb://db:27017/app',
  JWT_SECRET: STRONG_SECRET,
};

describe('mail and recovery settings', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config.mail).toEqual({
      smtpUrl: undefined,
      from: 'graphql-jwt-auth <no-reply@localhost>',
      outboxDir: '.data/outbox',
    });
    expect(config.recovery).toEqual({
      appUrl: 'http://localhost:5173',
      passwordResetTtl: 1800,
      emailVerificationTtl: 86400,
      requireVerifiedEmail: false,
      emailLimit: 5,
      emailWindow: 3600,
      ipLimit: 30,
      ipWindow: 3600,
    });
  });

  it('refuses to start in production without SMTP_URL', () => {
    expect(() => loadConfig(PRODUCTION)).toThrow(ConfigError);
    expect(() => loadConfig(PRODUCTION)).toThrow(/^Invalid configuration: SMTP_URL /);
    expect(
      loadConfig({ ...PRODUCTION, SMTP_URL: 'smtps://u:p@mail.example.com:465' }).mail.smtpUrl,
    ).toBe('smtps://u:p@mail.example.com:465');
  });

  it.each(['mail.example.com:25', 'http://mail.example.com', 'smtp://'])(
    'refuses SMTP_URL=%s without repeating it (it may hold a password)',
    (value) => {
      expect(() => loadConfig({ SMTP_URL: value })).toThrow(/^Invalid configuration: SMTP_URL /);
      let message = '';
      try {
        loadConfig({ SMTP_URL: `${value}?password=hunter2` });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toContain('hunter2');
    },
  );

  it('takes APP_URL with or without a trailing slash, and refuses anything but http(s)', () => {
    expect(loadConfig({ APP_URL: 'https://app.example.com/' }).recovery.appUrl).toBe(
      'https://app.example.com',
    );
    expect(loadConfig({ APP_URL: 'https://example.com/app' }).recovery.appUrl).toBe(
      'https://example.com/app',
    );
    for (const bad of ['app.example.com', 'javascript:alert(1)', 'https://a.example/?x=1']) {
      expect(() => loadConfig({ APP_URL: bad })).toThrow(/^Invalid configuration: APP_URL /);
    }
  });

  it('reads the lifetimes, REQUIRE_VERIFIED_EMAIL and the throttles', () => {
    const config = loadConfig({
      PASSWORD_RESET_TTL: '10m',
      EMAIL_VERIFICATION_TTL: '2d',
      REQUIRE_VERIFIED_EMAIL: 'true',
      RECOVERY_EMAIL_LIMIT: '3',
      RECOVERY_IP_LIMIT: '0',
    });
    expect(config.recovery).toMatchObject({
      passwordResetTtl: 600,
      emailVerificationTtl: 172800,
      requireVerifiedEmail: true,
      emailLimit: 3,
      ipLimit: 0,
    });
    expect(() => loadConfig({ PASSWORD_RESET_TTL: 'soon' })).toThrow(/PASSWORD_RESET_TTL/);
    expect(() => loadConfig({ REQUIRE_VERIFIED_EMAIL: 'maybe' })).toThrow(/REQUIRE_VERIFIED_EMAIL/);
  });

  it('keeps test mail out of the checkout', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).mail.outboxDir).not.toBe('.data/outbox');
  });
});
