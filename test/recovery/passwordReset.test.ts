import {
  RequestPasswordResetDocument as REQUEST_RESET,
  ResetPasswordDocument as RESET_PASSWORD,
} from '../../client/generated/graphql';
import { sleep } from '../helpers/expiry';
import { captureLogs } from '../helpers/logCapture';
import { startMailServer, tokenFromMail, type MailServer } from '../helpers/mailServer';
import {
  firstError,
  GOOD_PASSWORD,
  LOGIN,
  ME,
  registerUser,
  uniqueEmail,
} from '../helpers/operations';
import { CHANGE_PASSWORD, loginAgain, refresh, SESSIONS, sessionIdOf } from '../helpers/sessions';
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/testServer';

const NEW_PASSWORD = 'a brand new passphrase';
const APP_URL = 'https://app.example.test';

let mail: MailServer;
let api: TestServer;
const logs = captureLogs();

beforeAll(async () => {
  mail = await startMailServer();
  api = await startTestServer({
    env: { SMTP_URL: mail.url, MAIL_FROM: 'Accounts <accounts@example.test>', APP_URL },
    logStream: logs.stream,
  });
});

afterAll(async () => {
  await api.close();
  await mail.close();
});

function requestReset(server: TestServer, email: string) {
  return server.gql(REQUEST_RESET, { email });
}

function resetPassword(server: TestServer, token: string, newPassword = NEW_PASSWORD) {
  return server.gql(RESET_PASSWORD, { token, newPassword });
}

function expectError(response: GraphQLResponse, extensions: Record<string, unknown>): void {
  expect(response.status).toBe(200);
  expect(response.body.data).toBeNull();
  expect(firstError(response).extensions).toMatchObject(extensions);
}

/** Asks for a reset of `email` and returns the token of the `count`-th reset mail it got. */
async function resetTokenFor(email: string, count = 1): Promise<string> {
  expect((await requestReset(api, email)).body).toEqual({ data: { requestPasswordReset: true } });
  const message = await mail.waitForMail(email, count + 1); // the first is the verification mail
  expect(message.subject).toBe('Reset your password');
  return tokenFromMail(message, 'reset-password');
}

describe('requestPasswordReset → mail → resetPassword', () => {
  it('mails a link to the app, and the token in it sets a new password and signs in', async () => {
    const user = await registerUser(api);
    const email = user.user.email;
    expect((await requestReset(api, email)).body).toEqual({ data: { requestPasswordReset: true } });

    const message = await mail.waitForMail(email, 2);
    expect(message.subject).toBe('Reset your password');
    expect(message.parsed.from?.value).toEqual([
      { name: 'Accounts', address: 'accounts@example.test' },
    ]);
    const link = /https:\/\/\S+/.exec(message.text)?.[0];
    expect(link).toMatch(/^https:\/\/app\.example\.test\/reset-password\?token=[A-Za-z0-9_-]{43}$/);
    // Both bodies carry the same link; the HTML one as a real anchor.
    expect(message.html).toContain(`href="${link}"`);
    const token = tokenFromMail(message, 'reset-password');

    const response = await resetPassword(api, token);
    expect(response.body.errors).toBeUndefined();
    const payload = response.body.data!.resetPassword;
    expect(payload).toMatchObject({ tokenType: 'Bearer', user: { id: user.user.id, email } });

    const me = await api.gql(ME, {}, { token: payload.accessToken });
    expect(me.body.data?.me).toMatchObject({ id: user.user.id, emailVerified: true });
    expect((await refresh(api, payload.refreshToken!)).body.errors).toBeUndefined();
    expect((await loginAgain(api, email, { password: NEW_PASSWORD })).user.id).toBe(user.user.id);
    expectError(await api.gql(LOGIN, { input: { email, password: GOOD_PASSWORD } }), {
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_CREDENTIALS',
    });
  });

  it('ends every earlier session of the account', async () => {
    const first = await registerUser(api);
    const second = await loginAgain(api, first.user.email);
    const token = await resetTokenFor(first.user.email);

    const payload = (await resetPassword(api, token)).body.data!.resetPassword;

    for (const old of [first, second]) {
      expectError(await refresh(api, old.refreshToken), { reason: 'INVALID_REFRESH_TOKEN' });
      expectError(await api.gql(ME, {}, { token: old.accessToken }), {
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_TOKEN',
      });
    }
    const sessions = await api.gql(SESSIONS, {}, { token: payload.accessToken });
    expect(sessions.body.data?.sessions).toEqual([
      expect.objectContaining({ id: sessionIdOf(payload.accessToken), current: true }),
    ]);
  });

  it('writes a password_reset audit event with the number of sessions ended', async () => {
    const user = await registerUser(api);
    const token = await resetTokenFor(user.user.email);
    const response = await resetPassword(api, token);
    const reqId = response.headers.get('x-request-id');
    expect(logs.events('password_reset').filter((line) => line.reqId === reqId)).toEqual([
      expect.objectContaining({ audit: true, userId: user.user.id, sessions: 1 }),
    ]);
    expect(logs.text()).not.toContain(token);
  });
});

describe('requestPasswordReset for an unknown address', () => {
  it('answers exactly as for a known one and sends no mail', async () => {
    const known = await registerUser(api);
    const unknown = uniqueEmail('nobody');

    const forKnown = await requestReset(api, known.user.email);
    const forUnknown = await requestReset(api, unknown);

    expect(forUnknown.status).toBe(forKnown.status);
    expect(forUnknown.body).toEqual(forKnown.body);
    expect(forUnknown.body).toEqual({ data: { requestPasswordReset: true } });
    await mail.waitForMail(known.user.email, 2);
    await api.server.services.mail.idle();
    expect(mail.to(unknown)).toEqual([]);
  });

  it('takes the same time as for a known one', async () => {
    const known = await Promise.all(Array.from({ length: 8 }, () => registerUser(api)));
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
    const timed = async (email: string) => {
      const started = process.hrtime.bigint();
      await requestReset(api, email);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    // Interleaved, so a slow moment of the machine hits both alike.
    for (const user of known) {
      knownTimes.push(await timed(user.user.email));
      unknownTimes.push(await timed(uniqueEmail('ghost')));
    }
    const [a, b] = [median(knownTimes), median(unknownTimes)];
    // The answer does the same work either way (the lookup happens after it, in the mail queue).
    expect(Math.abs(a - b)).toBeLessThan(Math.max(25, 0.5 * Math.max(a, b)));
    await api.server.services.mail.idle();
  });

  it('refuses a malformed address as BAD_USER_INPUT / INVALID_EMAIL', async () => {
    expectError(await requestReset(api, 'not an address'), {
      code: 'BAD_USER_INPUT',
      reason: 'INVALID_EMAIL',
      field: 'email',
    });
  });
});

describe('reset tokens', () => {
  it('work once', async () => {
    const user = await registerUser(api);
    const token = await resetTokenFor(user.user.email);
    expect((await resetPassword(api, token)).body.errors).toBeUndefined();
    expectError(await resetPassword(api, token, 'yet another passphrase'), {
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_RESET_TOKEN',
    });
  });

  it('work once even when used twice at the same moment', async () => {
    const user = await registerUser(api);
    const token = await resetTokenFor(user.user.email);
    const results = await Promise.all([
      resetPassword(api, token, 'first concurrent passphrase'),
      resetPassword(api, token, 'second concurrent passphrase'),
    ]);
    const succeeded = results.filter((response) => response.body.data?.resetPassword);
    expect(succeeded).toHaveLength(1);
    const failed = results.find((response) => !response.body.data?.resetPassword)!;
    expect(firstError(failed).extensions).toMatchObject({ reason: 'INVALID_RESET_TOKEN' });
  });

  it('are voided by a newer request', async () => {
    const user = await registerUser(api);
    const older = await resetTokenFor(user.user.email, 1);
    const newer = await resetTokenFor(user.user.email, 2);
    expect(newer).not.toBe(older);
    expectError(await resetPassword(api, older), { reason: 'INVALID_RESET_TOKEN' });
    expect((await resetPassword(api, newer)).body.errors).toBeUndefined();
  });

  it('are voided by a password change', async () => {
    const user = await registerUser(api);
    const token = await resetTokenFor(user.user.email);
    const changed = await api.gql(
      CHANGE_PASSWORD,
      { currentPassword: GOOD_PASSWORD, newPassword: 'changed in the meantime' },
      { token: user.accessToken },
    );
    expect(changed.body.errors).toBeUndefined();
    expectError(await resetPassword(api, token), { reason: 'INVALID_RESET_TOKEN' });
  });

  it('refuse wrong and malformed tokens alike, and verification tokens', async () => {
    const user = await registerUser(api);
    const verification = tokenFromMail(await mail.waitForMail(user.user.email), 'verify-email');
    for (const token of ['', 'x', 'A'.repeat(43), '${"$ne": null}', verification]) {
      expectError(await resetPassword(api, token), {
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_RESET_TOKEN',
      });
    }
  });

  it('keep working after a new password the policy refuses', async () => {
    const user = await registerUser(api);
    const token = await resetTokenFor(user.user.email);
    expectError(await resetPassword(api, token, 'short'), {
      code: 'BAD_USER_INPUT',
      reason: 'WEAK_PASSWORD',
      field: 'newPassword',
    });
    expectError(await resetPassword(api, token, 'password123'), { reason: 'WEAK_PASSWORD' });
    expect((await resetPassword(api, token)).body.errors).toBeUndefined();
  });

  it('expire after PASSWORD_RESET_TTL', async () => {
    const shortLived = await startTestServer({
      env: { SMTP_URL: mail.url, PASSWORD_RESET_TTL: '1s' },
    });
    try {
      const user = await registerUser(shortLived);
      await requestReset(shortLived, user.user.email);
      const token = tokenFromMail(await mail.waitForMail(user.user.email, 2), 'reset-password');
      await sleep(1100);
      expectError(await resetPassword(shortLived, token), { reason: 'INVALID_RESET_TOKEN' });
    } finally {
      await shortLived.close();
    }
  });
});

describe('throttling of reset requests', () => {
  let strict: TestServer;

  beforeAll(async () => {
    strict = await startTestServer({
      env: { SMTP_URL: mail.url, RECOVERY_EMAIL_LIMIT: '2' },
    });
  });

  afterAll(async () => {
    await strict.close();
  });

  function expectRateLimited(response: GraphQLResponse): void {
    expectError(response, { code: 'RATE_LIMITED' });
    const retryAfter = firstError(response).extensions?.retryAfter;
    expect(typeof retryAfter).toBe('number');
    expect(response.headers.get('retry-after')).toBe(String(retryAfter));
  }

  it('limits requests per address, known or not, with the same answer', async () => {
    const known = (await registerUser(strict)).user.email;
    const unknown = uniqueEmail('flood');
    for (const email of [known, unknown]) {
      expect((await requestReset(strict, email)).body.errors).toBeUndefined();
      expect((await requestReset(strict, email)).body.errors).toBeUndefined();
    }
    const [forKnown, forUnknown] = [
      await requestReset(strict, known),
      await requestReset(strict, unknown),
    ];
    expectRateLimited(forKnown);
    expectRateLimited(forUnknown);
    // The same words; the seconds may differ by one, since each address's window began when its
    // own first request came in.
    const shape = (response: GraphQLResponse) =>
      String(response.body.errors?.[0]?.message).replace(/\d+/g, 'N');
    expect(shape(forUnknown)).toBe(shape(forKnown));
    await strict.server.services.mail.idle();
    // Two reset mails at most, whatever the flood (plus the verification mail of register).
    expect(mail.to(known)).toHaveLength(3);
    expect(mail.to(unknown)).toHaveLength(0);
  });

  it('limits requests per client IP across addresses', async () => {
    const ipServer = await startTestServer({
      env: { SMTP_URL: mail.url, RECOVERY_IP_LIMIT: '3' },
    });
    try {
      for (let i = 0; i < 3; i += 1) {
        expect((await requestReset(ipServer, uniqueEmail('spray'))).body.errors).toBeUndefined();
      }
      expectRateLimited(await requestReset(ipServer, uniqueEmail('spray')));
    } finally {
      await ipServer.close();
    }
  });
});

describe('when the mail server is down', () => {
  it('still answers at once and logs the failure with the request id, not the token', async () => {
    const down = await startMailServer();
    await down.close();
    const downLogs = captureLogs();
    const server = await startTestServer({
      env: { SMTP_URL: down.url },
      logStream: downLogs.stream,
    });
    try {
      const user = await registerUser(server);
      const started = Date.now();
      const response = await requestReset(server, user.user.email);
      expect(response.body).toEqual({ data: { requestPasswordReset: true } });
      expect(Date.now() - started).toBeLessThan(2000);

      const reqId = response.headers.get('x-request-id');
      const deadline = Date.now() + 10_000;
      const failures = () =>
        downLogs
          .lines()
          .filter(
            (line) => line.msg === 'mail delivery failed; will retry' && line.reqId === reqId,
          );
      while (failures().length === 0 && Date.now() < deadline) await sleep(50);
      expect(failures()[0]).toMatchObject({ kind: 'password-reset', attempt: 1, level: 40 });
      expect(downLogs.text()).not.toMatch(/token=/);
      // The API keeps serving meanwhile.
      expect((await server.gql(ME, {}, { token: user.accessToken })).body.errors).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
