import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ecKeyPair, jwsHeader, type TestKeyPair } from '../helpers/tokens';
import { ME, registerUser, type AuthPayload } from '../helpers/operations';
import { startTestServer, uniqueDbName, type TestServer } from '../helpers/testServer';

// Every server here shares one database, as the instances of one deployment would.
const dbName = uniqueDbName();
const started: TestServer[] = [];
let dir: string;
let oldKey: TestKeyPair;
let newKey: TestKeyPair;
let oldSession: AuthPayload;

async function server(env: Record<string, string>): Promise<TestServer> {
  const api = await startTestServer({ dbName, env: { JWT_ALGORITHM: 'ES256', ...env } });
  started.push(api);
  return api;
}

function writeKey(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function reasonFor(api: TestServer, token: string): Promise<unknown> {
  const response = await api.gql(ME, {}, { token });
  if (!response.body.errors) return response.body.data?.me.id ? 'OK' : 'NO DATA';
  return response.body.errors[0]?.extensions?.reason;
}

async function publishedKids(api: TestServer): Promise<string[]> {
  const body = (await (await fetch(`${api.url}/.well-known/jwks.json`)).json()) as {
    keys: Array<{ kid: string }>;
  };
  return body.keys.map((key) => key.kid);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rotation-test-'));
  oldKey = ecKeyPair();
  newKey = ecKeyPair();
  const before = await server({ JWT_PRIVATE_KEY: oldKey.privatePem });
  oldSession = await registerUser(before);
});

afterAll(async () => {
  const [first] = started;
  await first?.database.connection.dropDatabase().catch(() => undefined);
  for (const api of started) await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('key rotation', () => {
  it('keeps tokens of the old key valid while its public key is listed in JWT_PUBLIC_KEYS', async () => {
    const rotated = await server({
      JWT_PRIVATE_KEY: newKey.privatePem,
      JWT_PUBLIC_KEYS: oldKey.publicPem,
    });
    expect(await reasonFor(rotated, oldSession.accessToken)).toBe('OK');

    const fresh = await registerUser(rotated);
    expect(jwsHeader(fresh.accessToken).kid).not.toBe(jwsHeader(oldSession.accessToken).kid);
    expect(await reasonFor(rotated, fresh.accessToken)).toBe('OK');
    expect(await publishedKids(rotated)).toEqual([
      jwsHeader(fresh.accessToken).kid,
      jwsHeader(oldSession.accessToken).kid,
    ]);
  });

  it('stops accepting them once the old public key is removed', async () => {
    const done = await server({ JWT_PRIVATE_KEY: newKey.privatePem });
    expect(await reasonFor(done, oldSession.accessToken)).toBe('INVALID_TOKEN');
    expect(await publishedKids(done)).toEqual([
      jwsHeader((await registerUser(done)).accessToken).kid,
    ]);
  });

  it('lets instances still on the old key accept new tokens once the new public key is pre-published', async () => {
    const rotated = await server({ JWT_PRIVATE_KEY: newKey.privatePem });
    const newToken = (await registerUser(rotated)).accessToken;
    const lagging = await server({
      JWT_PRIVATE_KEY: oldKey.privatePem,
      JWT_PUBLIC_KEYS: newKey.publicPem,
    });
    expect(await reasonFor(lagging, newToken)).toBe('OK');
    expect(await reasonFor(lagging, oldSession.accessToken)).toBe('OK');
  });

  it('reads old public keys from a comma-separated list of files', async () => {
    const older = ecKeyPair();
    const olderSession = await registerUser(await server({ JWT_PRIVATE_KEY: older.privatePem }));
    const rotated = await server({
      JWT_PRIVATE_KEY: writeKey('new.pem', newKey.privatePem),
      JWT_PUBLIC_KEYS: `${writeKey('old.pub.pem', oldKey.publicPem)},${writeKey('older.pub.pem', older.publicPem)}`,
    });
    expect(await reasonFor(rotated, oldSession.accessToken)).toBe('OK');
    expect(await reasonFor(rotated, olderSession.accessToken)).toBe('OK');
  });
});
