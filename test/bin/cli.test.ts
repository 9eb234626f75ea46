import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { loadConfig } from '../../src/config';
import { createAccessTokens } from '../../src/tokens/accessTokens';
import { jwsHeader } from '../helpers/tokens';
import { ME, registerUser } from '../helpers/operations';
import { startTestServer, type TestServer } from '../helpers/testServer';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

let api: TestServer;

beforeAll(async () => {
  api = await startTestServer();
});

afterAll(async () => {
  await api.close();
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const uri = `${process.env.MONGODB_URI!.replace(/\/?$/, '/')}${api.database.connection.name}`;
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'src/bin/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, MONGODB_URI: uri, NODE_ENV: 'development' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('cli roles', () => {
  it('makes a registered user ADMIN, found by email in any letter case', async () => {
    const user = await registerUser(api);
    const result = await cli('roles', user.user.email.toUpperCase(), 'USER', 'admin');
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('USER, ADMIN');
    const stored = await api.database.models.User.findById(user.user.id).lean();
    expect(stored?.roles).toEqual(['USER', 'ADMIN']);
  });

  it('refuses an unknown role without touching the user', async () => {
    const user = await registerUser(api);
    const result = await cli('roles', user.user.email, 'ROOT');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown role(s): ROOT');
    const stored = await api.database.models.User.findById(user.user.id).lean();
    expect(stored?.roles).toEqual(['USER']);
  });

  it('refuses to remove the last ADMIN, and ends the sessions of an ADMIN it demotes', async () => {
    const { User } = api.database.models;
    const first = await registerUser(api);
    await User.updateMany({}, { $set: { roles: ['USER'] } });
    await User.updateOne({ _id: first.user.id }, { $set: { roles: ['USER', 'ADMIN'] } });

    const refused = await cli('roles', first.user.email, 'USER');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('last ADMIN');
    expect((await User.findById(first.user.id).lean())?.roles).toEqual(['USER', 'ADMIN']);

    const second = await registerUser(api);
    await User.updateOne({ _id: second.user.id }, { $set: { roles: ['USER', 'ADMIN'] } });
    expect(await cli('roles', first.user.email, 'USER')).toMatchObject({ code: 0 });
    expect((await User.findById(first.user.id).lean())?.roles).toEqual(['USER']);
    const me = await api.gql(ME, {}, { token: first.accessToken });
    expect(me.body.errors?.[0]?.extensions).toMatchObject({ reason: 'INVALID_TOKEN' });
  });

  it('exits 1 for an unknown email', async () => {
    const result = await cli('roles', 'nobody@example.com', 'ADMIN');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No user with email');
  });
});

describe('cli keygen', () => {
  const PRIVATE_BLOCK = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/;
  const PUBLIC_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----\n/;
  const generated = new Map<string, Awaited<ReturnType<typeof cli>>>();

  beforeAll(async () => {
    const [es256, rs256] = await Promise.all([
      cli('keygen', '--alg', 'es256'),
      cli('keygen', '--alg=RS256', '--bits', '2048'),
    ]);
    generated.set('ES256', es256).set('RS256', rs256);
  });

  it.each(['ES256', 'RS256'] as const)(
    'prints an %s key pair whose output works as JWT_PRIVATE_KEY, as text or as a file',
    (alg) => {
      const result = generated.get(alg)!;
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(PRIVATE_BLOCK);
      expect(result.stdout).toMatch(PUBLIC_BLOCK);
      const kid = /kid ([A-Za-z0-9_-]{43})/.exec(result.stderr)?.[1];
      expect(kid).toBeDefined();

      const dir = mkdtempSync(path.join(tmpdir(), 'keygen-test-'));
      try {
        const file = path.join(dir, 'signing.pem');
        writeFileSync(file, result.stdout);
        for (const privateKey of [result.stdout, file]) {
          const config = loadConfig({ JWT_ALGORITHM: alg, JWT_PRIVATE_KEY: privateKey });
          expect(config.jwt.signingKey?.kid).toBe(kid);
          const { token } = createAccessTokens(config.jwt).sign({
            userId: 'u1',
            roles: ['USER'],
            sessionId: 's1',
            fresh: true,
          });
          expect(jwsHeader(token)).toMatchObject({ alg, kid });
          // The printed public key alone verifies what the private key signed.
          const publicPem = PUBLIC_BLOCK.exec(result.stdout)![0];
          expect(
            jwt.verify(token, createPublicKey(publicPem), { algorithms: [alg] }),
          ).toMatchObject({ sub: 'u1' });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('makes a key a server signs and verifies with over HTTP', async () => {
    const { stdout } = generated.get('ES256')!;
    const es256 = await startTestServer({
      env: { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: stdout },
    });
    try {
      const session = await registerUser(es256);
      expect(jwsHeader(session.accessToken).alg).toBe('ES256');
      const response = await es256.gql(ME, undefined, { token: session.accessToken });
      expect(response.body.errors).toBeUndefined();
    } finally {
      await es256.close();
    }
  });

  it.each([
    [['--alg', 'HS256'], /--alg must be ES256 or RS256/],
    [['--alg', 'RS256', '--bits', '1024'], /--bits must be 2048, 3072, 4096/],
  ])('refuses %p with usage and exit code 2', async (args, message) => {
    const result = await cli('keygen', ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});

describe('cli migrate', () => {
  it('converts the data of earlier versions and reports what it did', async () => {
    const result = await cli('migrate');
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/^Migrated: \d+ email address\(es\), \d+ live session\(s\)/);
  });
});
