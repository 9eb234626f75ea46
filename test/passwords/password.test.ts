import { isCommonPassword, loadCommonPasswords } from '../../src/passwords/commonPasswords';
import { createPasswordHasher } from '../../src/passwords/password';
import { sharedHashingPool } from '../../src/passwords/hashingPool';
import { firstError, GOOD_PASSWORD, LOGIN, REGISTER, uniqueEmail } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

describe('the bundled common-password list', () => {
  const list = loadCommonPasswords();

  it('holds thousands of lower-cased passwords of at least 8 characters', () => {
    expect(list.size).toBeGreaterThanOrEqual(5000);
    expect(list.size).toBeLessThanOrEqual(10000);
    const misfits = [...list].filter(
      (entry) => entry !== entry.toLowerCase() || [...entry].length < 8,
    );
    expect(misfits).toEqual([]);
  });

  it.each(['password', 'Password1', 'QWERTYUIOP', 'iloveyou', '12345678'])(
    'knows %p, in any letter case',
    (password) => {
      expect(isCommonPassword(password)).toBe(true);
    },
  );

  it.each([GOOD_PASSWORD, 'p'.repeat(72), 'a'.repeat(72), 'Tr0ub4dor&3-zebra'])(
    'does not list %p',
    (password) => {
      expect(isCommonPassword(password)).toBe(false);
    },
  );
});

describe('register password policy', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
  });

  afterAll(async () => {
    await api.close();
  });

  function register(password: string) {
    return api.gql(REGISTER, { input: { email: uniqueEmail('policy'), password } });
  }

  it.each(['password1', 'Sunshine', 'QWERTY123', 'iloveyou'])(
    'refuses the common password %p as WEAK_PASSWORD',
    async (password) => {
      const response = await register(password);
      expect(response.body.data).toBeNull();
      expect(response.body.errors?.[0]?.message).toMatch(/too common/);
      expect(firstError(response).extensions).toEqual({
        code: 'BAD_USER_INPUT',
        reason: 'WEAK_PASSWORD',
        field: 'password',
      });
    },
  );

  it('refuses a 73-byte password as PASSWORD_TOO_LONG', async () => {
    const response = await register('p'.repeat(73));
    expect(response.body.errors?.[0]?.message).toMatch(/at most 72 bytes/);
    expect(firstError(response).extensions).toEqual({
      code: 'BAD_USER_INPUT',
      reason: 'PASSWORD_TOO_LONG',
      field: 'password',
    });
  });

  it('refuses a short password as WEAK_PASSWORD with its length in the message', async () => {
    const response = await register('x9!kq2');
    expect(firstError(response)).toMatchObject({
      message: 'The password must be at least 8 characters long.',
      extensions: { code: 'BAD_USER_INPUT', reason: 'WEAK_PASSWORD', field: 'password' },
    });
  });

  it('honours PASSWORD_MIN_LENGTH', async () => {
    const strict = await startTestServer({ env: { PASSWORD_MIN_LENGTH: '12' } });
    try {
      const short = await strict.gql(REGISTER, {
        input: { email: uniqueEmail(), password: 'x9!kq2#vB7' },
      });
      expect(firstError(short)).toMatchObject({
        message: 'The password must be at least 12 characters long.',
        extensions: { reason: 'WEAK_PASSWORD' },
      });
      const long = await strict.gql(REGISTER, {
        input: { email: uniqueEmail(), password: GOOD_PASSWORD },
      });
      expect(long.body.errors).toBeUndefined();
    } finally {
      await strict.close();
    }
  });
});

describe('Unicode passwords', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
  });

  afterAll(async () => {
    await api.close();
  });

  // "Crème brûlée 2024" with precomposed letters (NFC) and with combining accents (NFD).
  const composed = 'Cr\u00e8me br\u00fbl\u00e9e 2024';
  const decomposed = composed.normalize('NFD');

  it('treats two encodings of one password as the same password', async () => {
    expect(decomposed).not.toBe(composed);
    const registered = await api.gql(REGISTER, {
      input: { email: uniqueEmail('nfc'), password: decomposed },
    });
    expect(registered.body.errors).toBeUndefined();
    const email = registered.body.data!.register.user.email;
    const login = await api.gql(LOGIN, { input: { email, password: composed } });
    expect(login.body.errors).toBeUndefined();
    const wrong = await api.gql(LOGIN, { input: { email, password: `${composed}!` } });
    expect(firstError(wrong).extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('still accepts a hash stored before normalisation, from the bytes as typed', async () => {
    const hasher = createPasswordHasher(4);
    const legacy = await sharedHashingPool().hash(decomposed, 4);
    expect(await hasher.verify(decomposed, legacy)).toBe(true);
    expect(await hasher.verify(composed, legacy)).toBe(false);
    expect(await hasher.verify(composed, await hasher.hash(decomposed))).toBe(true);
  });
});
