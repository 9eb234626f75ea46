import { buildSchema } from '../../src/graphql/schema';
import {
  RequestEmailVerificationDocument as REQUEST_VERIFICATION,
  VerifyEmailDocument as VERIFY_EMAIL,
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
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/testServer';

let mail: MailServer;
let api: TestServer;
const logs = captureLogs();

beforeAll(async () => {
  mail = await startMailServer();
  api = await startTestServer({
    env: { SMTP_URL: mail.url, APP_URL: 'http://localhost:5173/' },
    logStream: logs.stream,
  });
});

afterAll(async () => {
  await api.close();
  await mail.close();
});

function expectError(response: GraphQLResponse, extensions: Record<string, unknown>): void {
  expect(response.status).toBe(200);
  expect(response.body.data).toBeNull();
  expect(firstError(response).extensions).toMatchObject(extensions);
}

function verifyEmail(server: TestServer, token: string) {
  return server.gql(VERIFY_EMAIL, { token });
}

async function isVerified(server: TestServer, accessToken: string): Promise<boolean> {
  const me = await server.gql(ME, {}, { token: accessToken });
  return me.body.data!.me.emailVerified;
}

describe('register', () => {
  it('mails a verification link; verifyEmail with its token verifies the address', async () => {
    const user = await registerUser(api);
    expect(user.user.emailVerified).toBe(false);

    const message = await mail.waitForMail(user.user.email);
    expect(message.subject).toBe('Confirm your email address');
    expect(message.text).toMatch(
      /http:\/\/localhost:5173\/verify-email\?token=[A-Za-z0-9_-]{43}\n/,
    );
    expect(message.html).toContain('/verify-email?token=');
    const token = tokenFromMail(message, 'verify-email');

    const response = await verifyEmail(api, token);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.verifyEmail).toMatchObject({
      id: user.user.id,
      emailVerified: true,
    });
    expect(await isVerified(api, user.accessToken)).toBe(true);
    const reqId = response.headers.get('x-request-id');
    expect(logs.events('email_verified').filter((line) => line.reqId === reqId)).toEqual([
      expect.objectContaining({ userId: user.user.id }),
    ]);
  });

  it('answers without waiting for the mail', async () => {
    const user = await registerUser(api);
    // The answer is out; the mail may or may not have arrived yet, but it does arrive.
    await mail.waitForMail(user.user.email);
  });
});

describe('verification tokens', () => {
  it('work once', async () => {
    const user = await registerUser(api);
    const token = tokenFromMail(await mail.waitForMail(user.user.email), 'verify-email');
    expect((await verifyEmail(api, token)).body.errors).toBeUndefined();
    expectError(await verifyEmail(api, token), {
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_VERIFICATION_TOKEN',
    });
  });

  it('refuse wrong and malformed tokens', async () => {
    for (const token of ['', 'nonsense', 'B'.repeat(43), 'x'.repeat(10_000)]) {
      expectError(await verifyEmail(api, token), {
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_VERIFICATION_TOKEN',
      });
    }
  });

  it('expire after EMAIL_VERIFICATION_TTL', async () => {
    const shortLived = await startTestServer({
      env: { SMTP_URL: mail.url, EMAIL_VERIFICATION_TTL: '1s' },
    });
    try {
      const user = await registerUser(shortLived);
      const token = tokenFromMail(await mail.waitForMail(user.user.email), 'verify-email');
      await sleep(1100);
      expectError(await verifyEmail(shortLived, token), { reason: 'INVALID_VERIFICATION_TOKEN' });
      expect(await isVerified(shortLived, user.accessToken)).toBe(false);
    } finally {
      await shortLived.close();
    }
  });
});

describe('requestEmailVerification', () => {
  it('mails a new link that replaces the one from register', async () => {
    const user = await registerUser(api);
    const first = tokenFromMail(await mail.waitForMail(user.user.email), 'verify-email');

    const response = await api.gql(REQUEST_VERIFICATION, {}, { token: user.accessToken });
    expect(response.body).toEqual({ data: { requestEmailVerification: true } });
    const second = tokenFromMail(await mail.waitForMail(user.user.email, 2), 'verify-email');

    expectError(await verifyEmail(api, first), { reason: 'INVALID_VERIFICATION_TOKEN' });
    expect((await verifyEmail(api, second)).body.errors).toBeUndefined();
  });

  it('sends nothing once the address is verified', async () => {
    const user = await registerUser(api);
    await verifyEmail(api, tokenFromMail(await mail.waitForMail(user.user.email), 'verify-email'));
    const response = await api.gql(REQUEST_VERIFICATION, {}, { token: user.accessToken });
    expect(response.body).toEqual({ data: { requestEmailVerification: true } });
    await api.server.services.mail.idle();
    expect(mail.to(user.user.email)).toHaveLength(1);
  });

  it('needs a signed-in caller', async () => {
    const response = await api.gql(REQUEST_VERIFICATION, {});
    expectError(response, { code: 'UNAUTHENTICATED', reason: 'MISSING_TOKEN' });
    expect(firstError(response).path).toEqual(['requestEmailVerification']);
  });

  it('is throttled per address', async () => {
    const strict = await startTestServer({
      env: { SMTP_URL: mail.url, RECOVERY_EMAIL_LIMIT: '1' },
    });
    try {
      const user = await registerUser(strict);
      const ask = () => strict.gql(REQUEST_VERIFICATION, {}, { token: user.accessToken });
      expect((await ask()).body.errors).toBeUndefined();
      const refused = await ask();
      expectError(refused, { code: 'RATE_LIMITED' });
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await strict.close();
    }
  });
});

describe('REQUIRE_VERIFIED_EMAIL=true', () => {
  let strict: TestServer;

  beforeAll(async () => {
    strict = await startTestServer({ env: { SMTP_URL: mail.url, REQUIRE_VERIFIED_EMAIL: 'true' } });
  });

  afterAll(async () => {
    await strict.close();
  });

  const login = (email: string, password: string) =>
    strict.gql(LOGIN, { input: { email, password } });

  it('refuses login to an unverified account, but only after the password check', async () => {
    const user = await registerUser(strict);
    expectError(await login(user.user.email, 'not the password'), {
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_CREDENTIALS',
    });
    const refused = await login(user.user.email, GOOD_PASSWORD);
    expectError(refused, { code: 'FORBIDDEN', reason: 'EMAIL_NOT_VERIFIED' });
    expect(firstError(refused).path).toEqual(['login']);
  });

  it('lets the account sign in once its address is verified', async () => {
    const user = await registerUser(strict);
    const token = tokenFromMail(await mail.waitForMail(user.user.email), 'verify-email');
    expect((await verifyEmail(strict, token)).body.errors).toBeUndefined();
    const response = await login(user.user.email, GOOD_PASSWORD);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.login.user.emailVerified).toBe(true);
  });

  it('still answers INVALID_CREDENTIALS for unknown addresses', async () => {
    expectError(await login(uniqueEmail('ghost'), GOOD_PASSWORD), {
      reason: 'INVALID_CREDENTIALS',
    });
  });
});

describe('the emailVerified policy', () => {
  it('refuses a field guarded by it until the caller follows the link', async () => {
    const schema = buildSchema({
      typeDefs: `extend type Query { verifiedOnly: String @auth(policies: ["emailVerified"]) }`,
      resolvers: { Query: { verifiedOnly: () => 'for verified addresses' } },
    });
    const guarded = await startTestServer({ schema, env: { SMTP_URL: mail.url } });
    try {
      const user = await registerUser(guarded);
      const query = '{ verifiedOnly }';
      const before = await guarded.gql(query, {}, { token: user.accessToken });
      expect(before.body.data).toEqual({ verifiedOnly: null });
      expect(firstError(before).extensions).toMatchObject({
        code: 'FORBIDDEN',
        reason: 'POLICY_DENIED',
        policy: 'emailVerified',
      });

      const token = tokenFromMail(await mail.waitForMail(user.user.email), 'verify-email');
      expect((await verifyEmail(guarded, token)).body.errors).toBeUndefined();
      const after = await guarded.gql(query, {}, { token: user.accessToken });
      expect(after.body).toEqual({ data: { verifiedOnly: 'for verified addresses' } });
    } finally {
      await guarded.close();
    }
  });
});
