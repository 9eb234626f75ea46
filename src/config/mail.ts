import { tmpdir } from 'node:os';
import path from 'node:path';
import { invalid, readBool, readDuration, readInt, readText, type Env } from './readers';

/** How mail leaves the API (docs/recovery.md, "Mail settings"). */
export interface MailConfig {
  /**
   * SMTP_URL: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. Required in
   * production; unset elsewhere, messages are written to {@link MailConfig.outboxDir} instead.
   */
  readonly smtpUrl: string | undefined;
  /** MAIL_FROM, default `graphql-jwt-auth <no-reply@localhost>`: the From header. */
  readonly from: string;
  /**
   * MAIL_OUTBOX_DIR, default `.data/outbox` (under the system temp folder when NODE_ENV=test):
   * where mail goes without SMTP_URL.
   */
  readonly outboxDir: string;
}

/** Password reset and email verification (docs/recovery.md). */
export interface RecoveryConfig {
  /** APP_URL, default `http://localhost:5173`: the web app that links in mail point to. */
  readonly appUrl: string;
  /** PASSWORD_RESET_TTL, default 30m: lifetime of a reset token, in seconds. */
  readonly passwordResetTtl: number;
  /** EMAIL_VERIFICATION_TTL, default 24h: lifetime of a verification token, in seconds. */
  readonly emailVerificationTtl: number;
  /** REQUIRE_VERIFIED_EMAIL, default false: login refuses accounts whose address is unverified. */
  readonly requireVerifiedEmail: boolean;
  /** RECOVERY_EMAIL_LIMIT, default 5: mail requests per address (reset or verification) per window. */
  readonly emailLimit: number;
  /** RECOVERY_EMAIL_WINDOW, default 1h, in seconds. */
  readonly emailWindow: number;
  /** RECOVERY_IP_LIMIT, default 30: mail requests per client IP per window; 0 turns it off. */
  readonly ipLimit: number;
  /** RECOVERY_IP_WINDOW, default 1h, in seconds. */
  readonly ipWindow: number;
}

function readSmtpUrl(env: Env, isProduction: boolean): string | undefined {
  const raw = env.SMTP_URL?.trim() || undefined;
  if (!raw) {
    if (isProduction) {
      return invalid(
        'SMTP_URL',
        'is required in production (reset and verification mail)',
        undefined,
      );
    }
    return undefined;
  }
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || !['smtp:', 'smtps:'].includes(url.protocol) || url.hostname === '') {
    // The value may hold a password: name the problem, not the value.
    return invalid('SMTP_URL', 'must be a URL such as smtp://user:password@host:587', undefined);
  }
  return raw;
}

function readAppUrl(env: Env): string {
  const raw = readText(env, 'APP_URL', 'http://localhost:5173');
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash) {
    return invalid(
      'APP_URL',
      `must be an http(s) URL without query or fragment, such as https://app.example.com (got "${raw}")`,
      'http://localhost:5173',
    );
  }
  // Links are built as `${appUrl}/reset-password?token=…`.
  return raw.replace(/\/+$/, '');
}

export function readMailConfig(env: Env, nodeEnv: string): MailConfig {
  // Test runs register thousands of users; their mail should not pile up in the checkout.
  const outboxDir =
    nodeEnv === 'test' ? path.join(tmpdir(), 'graphql-jwt-auth-outbox') : '.data/outbox';
  return {
    smtpUrl: readSmtpUrl(env, nodeEnv === 'production'),
    from: readText(env, 'MAIL_FROM', 'graphql-jwt-auth <no-reply@localhost>'),
    outboxDir: readText(env, 'MAIL_OUTBOX_DIR', outboxDir),
  };
}

export function readRecoveryConfig(env: Env): RecoveryConfig {
  return {
    appUrl: readAppUrl(env),
    passwordResetTtl: readDuration(env, 'PASSWORD_RESET_TTL', '30m'),
    emailVerificationTtl: readDuration(env, 'EMAIL_VERIFICATION_TTL', '24h'),
    requireVerifiedEmail: readBool(env, 'REQUIRE_VERIFIED_EMAIL', false),
    emailLimit: readInt(env, 'RECOVERY_EMAIL_LIMIT', 5, 1, 1000),
    emailWindow: readDuration(env, 'RECOVERY_EMAIL_WINDOW', '1h'),
    ipLimit: readInt(env, 'RECOVERY_IP_LIMIT', 30, 0, 1_000_000_000),
    ipWindow: readDuration(env, 'RECOVERY_IP_WINDOW', '1h'),
  };
}
