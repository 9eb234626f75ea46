import { escapeHtml, type MailMessage } from '../mail/message';

/** The page of the web app a link opens, with the token in its query (docs/recovery.md). */
export function recoveryLink(
  appUrl: string,
  page: 'reset-password' | 'verify-email',
  token: string,
): string {
  return `${appUrl}/${page}?token=${encodeURIComponent(token)}`;
}

function lifetime(seconds: number): string {
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

interface Content {
  readonly to: string;
  readonly subject: string;
  readonly intro: string;
  readonly action: string;
  readonly link: string;
  readonly outro: string;
}

function render({ to, subject, intro, action, link, outro }: Content): MailMessage {
  const text = `${intro}\n\n${action}:\n${link}\n\n${outro}\n`;
  const html = [
    '<!doctype html>',
    `<html><body style="font-family: sans-serif; line-height: 1.5">`,
    `<p>${escapeHtml(intro)}</p>`,
    `<p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>`,
    `<p style="color: #555">${escapeHtml(outro)}</p>`,
    '</body></html>',
  ].join('\n');
  return { to, subject, text, html, link };
}

/** The mail with a password reset link. */
export function passwordResetMessage(to: string, link: string, ttlSeconds: number): MailMessage {
  return render({
    to,
    subject: 'Reset your password',
    intro: 'Someone, hopefully you, asked to reset the password of your account.',
    action: 'Choose a new password',
    link,
    outro:
      `The link works once, for ${lifetime(ttlSeconds)}. Resetting signs out every device. ` +
      'If you did not ask for this, ignore this mail: your password stays as it is.',
  });
}

/** The mail with an email verification link. */
export function verificationMessage(to: string, link: string, ttlSeconds: number): MailMessage {
  return render({
    to,
    subject: 'Confirm your email address',
    intro: 'Please confirm that this address belongs to your account.',
    action: 'Confirm my email address',
    link,
    outro:
      `The link works once, for ${lifetime(ttlSeconds)}. ` +
      'If you did not create an account, ignore this mail.',
  });
}
