import { createAccountService, type AccountService } from '../../src/accounts/account';
import { createAuthService, type AuthService } from '../../src/accounts/authentication';
import { silentAuditLog } from '../../src/logging/audit';
import {
  createPasswordResetService,
  type PasswordResetService,
} from '../../src/recovery/passwordReset';
import { createRecoveryThrottle } from '../../src/recovery/recoveryThrottle';
import {
  createRecoveryTokenStore,
  type RecoveryTokenStore,
} from '../../src/recovery/recoveryTokenStore';
import { createPasswordHasher, type PasswordHasher } from '../../src/passwords/password';
import { createRefreshTokenStore } from '../../src/sessions/refreshTokens';
import type { ClientInfo } from '../../src/sessions/types';
import { createAuthThrottle } from '../../src/throttling/authThrottle';
import { createRateLimiter } from '../../src/throttling/rateLimiter';
import { createAccessTokens } from '../../src/tokens/accessTokens';
import { GOOD_PASSWORD, registerUser } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

/** Where a held call stopped: `reached` settles once it gets there, `release` lets it go on. */
interface Hold {
  readonly reached: Promise<void>;
  release(): void;
}

/**
 * The real hasher, except that the next `verify` (after comparing) or `hash` (before hashing)
 * can be held: the deterministic way to put another flow between two steps of a password flow.
 */
function holdingHasher(real: PasswordHasher) {
  const held: { verify?: () => Promise<void>; hash?: () => Promise<void> } = {};
  function hold(step: 'verify' | 'hash'): Hold {
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    held[step] = () => {
      held[step] = undefined;
      arrive();
      return released;
    };
    return { reached, release };
  }
  const hasher: PasswordHasher = {
    ...real,
    async verify(password, hash) {
      const ok = await real.verify(password, hash);
      await held.verify?.();
      return ok;
    },
    async hash(password) {
      await held.hash?.();
      return real.hash(password);
    },
  };
  return { hasher, hold };
}

const CLIENT: ClientInfo = { ip: '198.51.100.7', userAgent: 'race-test' };
const NEW_PASSWORD = 'a brand new passphrase';

let api: TestServer;
let auth: AuthService;
let account: AccountService;
let reset: PasswordResetService;
let recoveryTokens: RecoveryTokenStore;
let hold: (step: 'verify' | 'hash') => Hold;

beforeAll(async () => {
  api = await startTestServer();
  const { config } = api;
  const { models } = api.database;
  const holding = holdingHasher(createPasswordHasher(config.bcryptCost));
  hold = holding.hold;
  const accessTokens = createAccessTokens(config.jwt);
  const refreshTokens = createRefreshTokenStore({ config, models, audit: silentAuditLog });
  const throttle = createAuthThrottle(
    config.rateLimit,
    createRateLimiter(models),
    config.registrationLimits,
  );
  const common = {
    models,
    passwords: holding.hasher,
    accessTokens,
    refreshTokens,
    throttle,
    audit: silentAuditLog,
    passwordMinLength: config.passwordMinLength,
  };
  auth = createAuthService(common);
  account = createAccountService({ ...common, users: api.server.services.users });
  recoveryTokens = createRecoveryTokenStore(models);
  reset = createPasswordResetService({
    ...common,
    config: config.recovery,
    tokens: recoveryTokens,
    throttle: createRecoveryThrottle(config.recovery, createRateLimiter(models)),
    authThrottle: throttle,
    mail: api.server.services.mail,
  });
});

afterAll(async () => {
  await api.close();
});

async function storedSessionIds(userId: string): Promise<string[]> {
  const user = await api.database.models.User.findById(userId);
  return [...(user?.sessions.keys() ?? [])];
}

describe('login racing changePassword', () => {
  it('refuses a login whose password check read the hash that changePassword replaced', async () => {
    const owner = await registerUser(api);
    const caller = {
      sub: owner.user.id,
      sid: api.server.services.accessTokens.verify(owner.accessToken).sid,
    };

    // The login has compared the old password and is about to start its session.
    const held = hold('verify');
    const login = auth.login({ email: owner.user.email, password: GOOD_PASSWORD }, CLIENT);
    const settled = login.then(
      () => 'signed in',
      (error: unknown) => error,
    );
    await held.reached;
    const changed = await account.changePassword(
      caller,
      { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD },
      CLIENT,
    );
    held.release();

    expect(await settled).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' },
    });
    const changedSid = api.server.services.accessTokens.verify(changed.accessToken).sid;
    expect(await storedSessionIds(owner.user.id)).toEqual([changedSid]);
  });

  it('ends a session that a login started while changePassword was hashing the new password', async () => {
    const owner = await registerUser(api);
    const caller = {
      sub: owner.user.id,
      sid: api.server.services.accessTokens.verify(owner.accessToken).sid,
    };

    // changePassword has read the user and checked the current password; the hash is not stored.
    const held = hold('hash');
    const change = account.changePassword(
      caller,
      { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD },
      CLIENT,
    );
    await held.reached;
    const late = await auth.login({ email: owner.user.email, password: GOOD_PASSWORD }, CLIENT);
    held.release();
    const changed = await change;

    const lateSid = api.server.services.accessTokens.verify(late.accessToken).sid;
    await expect(
      api.server.services.users.current({ sub: owner.user.id, sid: lateSid }),
    ).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_TOKEN' } });
    await expect(auth.refresh(late.refreshToken, CLIENT)).rejects.toMatchObject({
      extensions: { reason: 'INVALID_REFRESH_TOKEN' },
    });
    const changedSid = api.server.services.accessTokens.verify(changed.accessToken).sid;
    expect(await storedSessionIds(owner.user.id)).toEqual([changedSid]);
  });
});

describe('login racing resetPassword', () => {
  it('ends a session that a login started while resetPassword was hashing the new password', async () => {
    const owner = await registerUser(api);
    const user = await api.database.models.User.findById(owner.user.id);
    // The token as the mailed link carries it (the mail itself is tested in test/recovery).
    const token = await recoveryTokens.issue('password-reset', user!, 60);

    // resetPassword has checked the token; the new hash is not stored yet.
    const held = hold('hash');
    const resetting = reset.reset(token, NEW_PASSWORD, CLIENT);
    await held.reached;
    const late = await auth.login({ email: owner.user.email, password: GOOD_PASSWORD }, CLIENT);
    held.release();
    const afterReset = await resetting;

    const lateSid = api.server.services.accessTokens.verify(late.accessToken).sid;
    await expect(
      api.server.services.users.current({ sub: owner.user.id, sid: lateSid }),
    ).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_TOKEN' } });
    const resetSid = api.server.services.accessTokens.verify(afterReset.accessToken).sid;
    expect(await storedSessionIds(owner.user.id)).toEqual([resetSid]);
  });
});
