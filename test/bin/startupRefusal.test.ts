import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const SERVER = path.resolve(__dirname, '../../src/bin/server.ts');
const TSX = pathToFileURL(require.resolve('tsx')).href;

jest.setTimeout(60_000);

/** Runs `src/bin/server.ts` with `env` until it exits; resolves to its exit code and stderr. */
function runServer(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, SERVER], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      PORT: '0',
      MONGODB_URI: `${process.env.MONGODB_URI!.replace(/\/?$/, '/')}startup_refusal`,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

describe('start-up', () => {
  it('refuses an invalid role→scope map with one message naming ROLE_SCOPES', async () => {
    const { code, stderr } = await runServer({ ROLE_SCOPES: 'ADMIN=users:*;OWNER=*' });
    expect(code).toBe(1);
    expect(stderr).toContain(
      'Invalid configuration: ROLE_SCOPES names an unknown role "OWNER" (roles: USER, ADMIN)',
    );
  });
});
