import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { registerUser } from './helpers/operations';
import { startTestServer, type TestServer } from './helpers/testServer';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

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
    const { stdout, stderr } = await run('npx', ['tsx', 'src/cli.ts', ...args], {
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

  it('exits 1 for an unknown email', async () => {
    const result = await cli('roles', 'nobody@example.com', 'ADMIN');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No user with email');
  });
});
