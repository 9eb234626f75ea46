import bcrypt from 'bcrypt';
import { bcryptCostOf, createPasswordHasher } from '../../src/passwords/password';
import { firstError, GOOD_PASSWORD, LOGIN, registerUser } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

describe('bcryptCostOf', () => {
  it('reads the cost of every bcrypt version', () => {
    expect(bcryptCostOf(bcrypt.hashSync('x', 4))).toBe(4);
    expect(bcryptCostOf(`$2a$12$${'a'.repeat(53)}`)).toBe(12);
    expect(bcryptCostOf(`$2y$10$${'a'.repeat(53)}`)).toBe(10);
  });

  it('answers null for anything else', () => {
    expect(bcryptCostOf('plain text')).toBeNull();
    expect(bcryptCostOf('')).toBeNull();
  });
});

describe('needsRehash', () => {
  const hasher = createPasswordHasher(5);

  it('is true for a hash of another cost, lower or higher', () => {
    expect(hasher.needsRehash(bcrypt.hashSync('x', 4))).toBe(true);
    expect(hasher.needsRehash(`$2b$12$${'a'.repeat(53)}`)).toBe(true);
  });

  it('is false at the configured cost', () => {
    expect(hasher.needsRehash(bcrypt.hashSync('x', 5))).toBe(false);
  });
});

describe('login with a hash of another cost', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer(); // BCRYPT_COST=4
  });

  afterAll(async () => {
    await api.close();
  });

  async function storedHash(userId: string): Promise<string> {
    const user = await api.database.models.User.findById(userId, { passwordHash: 1 }).lean();
    return user!.passwordHash;
  }

  function login(email: string, password = GOOD_PASSWORD) {
    return api.gql(LOGIN, { input: { email, password } });
  }

  it('stores the password again at the configured cost, and it keeps working', async () => {
    const { user } = await registerUser(api);
    const old = await bcrypt.hash(GOOD_PASSWORD, 5);
    await api.database.models.User.updateOne({ _id: user.id }, { $set: { passwordHash: old } });

    expect((await login(user.email)).body.errors).toBeUndefined();

    const upgraded = await storedHash(user.id);
    expect(upgraded).not.toBe(old);
    expect(bcryptCostOf(upgraded)).toBe(4);
    expect(await bcrypt.compare(GOOD_PASSWORD, upgraded)).toBe(true);
    expect((await login(user.email)).body.errors).toBeUndefined();
  });

  it('leaves a hash at the configured cost alone', async () => {
    const { user } = await registerUser(api);
    const before = await storedHash(user.id);
    expect((await login(user.email)).body.errors).toBeUndefined();
    expect(await storedHash(user.id)).toBe(before);
  });

  it('rewrites nothing when the password is wrong', async () => {
    const { user } = await registerUser(api);
    const old = await bcrypt.hash(GOOD_PASSWORD, 5);
    await api.database.models.User.updateOne({ _id: user.id }, { $set: { passwordHash: old } });
    expect(firstError(await login(user.email, 'not the password at all')).extensions).toMatchObject(
      { reason: 'INVALID_CREDENTIALS' },
    );
    expect(await storedHash(user.id)).toBe(old);
  });
});
