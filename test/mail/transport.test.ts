import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { createMailTransport } from '../../src/mail/transport';
import { REGISTER, uniqueEmail, GOOD_PASSWORD } from '../helpers/operations';
import { captureLogs } from '../helpers/logCapture';
import { startTestServer } from '../helpers/testServer';

describe('the outbox (no SMTP_URL outside production)', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'outbox-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each message as an .eml file and logs its link', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const transport = createMailTransport(
      { smtpUrl: undefined, from: 'App <app@example.test>', outboxDir: dir },
      { info: (fields) => lines.push(fields as Record<string, unknown>), warn: () => undefined },
    );
    expect(transport.kind).toBe('outbox');
    await transport.send({
      to: 'ada@example.com',
      subject: 'Reset your password',
      text: 'Follow http://localhost:5173/reset-password?token=abc',
      html: '<a href="http://localhost:5173/reset-password?token=abc">reset</a>',
      link: 'http://localhost:5173/reset-password?token=abc',
    });
    transport.close();

    const [file] = await readdir(dir);
    expect(file).toMatch(/\.eml$/);
    const parsed = await simpleParser(await readFile(path.join(dir, file!)));
    expect(parsed.subject).toBe('Reset your password');
    expect(parsed.text).toContain('reset-password?token=abc');
    expect(parsed.html).toContain('href="http://localhost:5173/reset-password?token=abc"');
    expect(lines).toEqual([
      expect.objectContaining({
        to: 'ada@example.com',
        link: 'http://localhost:5173/reset-password?token=abc',
        file: path.join(dir, file!),
      }),
    ]);
  });

  it('receives the verification mail of a registration on a server without SMTP_URL', async () => {
    const logs = captureLogs();
    const api = await startTestServer({ env: { MAIL_OUTBOX_DIR: dir }, logStream: logs.stream });
    try {
      const email = uniqueEmail('outbox');
      const response = await api.gql(REGISTER, { input: { email, password: GOOD_PASSWORD } });
      expect(response.body.errors).toBeUndefined();
      await api.server.services.mail.idle();
      expect(await readdir(dir)).toHaveLength(1);
      const line = logs.lines().find((entry) => entry.to === email);
      expect(line?.link).toMatch(/^http:\/\/localhost:5173\/verify-email\?token=[\w-]{43}$/);
    } finally {
      await api.close();
    }
  });
});
