import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { MailConfig } from '../config';
import type { EventLogger } from '../logging/logger';
import type { MailMessage } from './message';

/** Hands one message to whatever delivers mail; rejects when that failed. */
export interface MailTransport {
  /** `smtp`, or `outbox` in development without SMTP_URL. */
  readonly kind: 'smtp' | 'outbox';
  send(message: MailMessage): Promise<void>;
  close(): void;
}

// nodemailer waits two minutes for a silent server by default; a queue worker should not.
const SMTP_TIMEOUTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
} as const;

function smtpTransport(url: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport({ url, ...SMTP_TIMEOUTS }, { from });
  return {
    kind: 'smtp',
    async send({ to, subject, text, html }) {
      await transporter.sendMail({ to, subject, text, html });
    },
    close: () => transporter.close(),
  };
}

/**
 * Development without SMTP_URL: each message becomes an `.eml` file in `dir` (any mail client
 * opens one) and its link is logged, so reset and verification work with no mail server at all.
 */
function outboxTransport(dir: string, from: string, logger: EventLogger): MailTransport {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true }, { from });
  return {
    kind: 'outbox',
    async send({ to, subject, text, html, link }) {
      const info = await composer.sendMail({ to, subject, text, html });
      await mkdir(dir, { recursive: true });
      const file = path.resolve(
        dir,
        `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`,
      );
      await writeFile(file, info.message);
      logger.info({ to, subject, link, file }, 'mail written to the outbox (SMTP_URL is not set)');
    },
    close: () => composer.close(),
  };
}

/** SMTP when SMTP_URL is set, the outbox folder otherwise (never in production: config refuses). */
export function createMailTransport(config: MailConfig, logger: EventLogger): MailTransport {
  return config.smtpUrl
    ? smtpTransport(config.smtpUrl, config.from)
    : outboxTransport(config.outboxDir, config.from, logger);
}
