import { createAuthClient } from '../../client/authClient';
import { AuthClientError } from '../../client/authClientError';
import { MeDocument } from '../../client/generated/graphql';
import { createInProcessLock } from '../../client/refreshLock';
import { memoryTokenStorage } from '../../client/tokenStorage';
import { startMailServer, tokenFromMail, type MailServer } from '../helpers/mailServer';
import { GOOD_PASSWORD, uniqueEmail } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

let mail: MailServer;
let api: TestServer;

beforeAll(async () => {
  mail = await startMailServer();
  api = await startTestServer({ env: { SMTP_URL: mail.url } });
});

afterAll(async () => {
  await api.close();
  await mail.close();
});

function newClient() {
  return createAuthClient({
    url: `${api.url}/graphql`,
    storage: memoryTokenStorage(),
    lock: createInProcessLock(),
  });
}

async function rejection(promise: Promise<unknown>): Promise<AuthClientError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof AuthClientError)) throw new Error(`expected an AuthClientError`);
  return error;
}

describe('the client SDK for recovery and verification', () => {
  it('verifies an address, asks for a reset and signs in with the new password', async () => {
    const email = uniqueEmail('sdk');
    const client = newClient();
    const user = await client.register({ email, password: GOOD_PASSWORD });
    expect(user.emailVerified).toBe(false);

    expect(await client.requestEmailVerification()).toBe(true);
    const verification = tokenFromMail(await mail.waitForMail(email, 2), 'verify-email');
    expect(await client.verifyEmail(verification)).toMatchObject({ email, emailVerified: true });

    const other = newClient();
    expect(await other.requestPasswordReset(email)).toBe(true);
    const reset = tokenFromMail(await mail.waitForMail(email, 3), 'reset-password');
    expect(other.isSignedIn()).toBe(false);
    expect(await other.resetPassword(reset, 'a brand new passphrase')).toMatchObject({ email });
    expect(other.isSignedIn()).toBe(true);
    expect((await other.request(MeDocument)).me.email).toBe(email);
  });

  it('rejects bad links with typed reasons', async () => {
    const client = newClient();
    const badReset = await rejection(
      client.resetPassword('A'.repeat(43), 'a brand new passphrase'),
    );
    expect([badReset.code, badReset.reason]).toEqual(['UNAUTHENTICATED', 'INVALID_RESET_TOKEN']);
    const badVerification = await rejection(client.verifyEmail('A'.repeat(43)));
    expect(badVerification.reason).toBe('INVALID_VERIFICATION_TOKEN');
    expect(client.isSignedIn()).toBe(false);
  });
});
