import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../../src/embedded/waitForPort';

const SERVER = path.resolve(__dirname, '../../src/bin/server.ts');
// The working directory is a temporary folder, so tsx is named by its full path.
const TSX = pathToFileURL(require.resolve('tsx')).href;

jest.setTimeout(60_000);

let cwd: string;
const children = new Set<ChildProcess>();

beforeEach(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), 'gja-dotenv-test-'));
});

afterEach(async () => {
  await Promise.all([...children].map(stop));
  await rm(cwd, { recursive: true, force: true });
});

interface Server {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

/** Starts `src/bin/server.ts` in `cwd` with exactly `env` (plus PATH and HOME). */
function startServer(env: Record<string, string>): Server {
  const child = spawn(process.execPath, ['--import', TSX, SERVER], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      MONGODB_URI: `${process.env.MONGODB_URI!.replace(/\/?$/, '/')}dotenv`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  children.delete(child);
}

/** Resolves once the server answers /health on `port`. */
async function waitForHealth(server: Server, port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) break;
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no answer on port ${port}:\n${server.stdout()}\n${server.stderr()}`);
}

describe('server .env', () => {
  it('reads .env from the working directory before the config', async () => {
    const port = await freePort();
    await writeFile(path.join(cwd, '.env'), `PORT=${port}\nLOG_LEVEL=warn\n`);

    const server = startServer({ LOG_FORMAT: 'json' });
    await waitForHealth(server, port);

    expect(server.stderr()).toMatch(/^read \.env: set LOG_LEVEL, PORT$/m);
    // LOG_LEVEL=warn from the file: the info line "GraphQL API ready" is not written.
    expect(server.stdout()).not.toContain('GraphQL API ready');
  });

  it('lets a variable set in the environment win over the file', async () => {
    const [filePort, envPort] = [await freePort(), await freePort()];
    await writeFile(
      path.join(cwd, '.env'),
      `PORT=${filePort}\nLOG_LEVEL=warn\n# kept as a comment\nSANDBOX=false\n`,
    );

    const server = startServer({ LOG_FORMAT: 'json', PORT: String(envPort), LOG_LEVEL: 'info' });
    await waitForHealth(server, envPort);

    expect(server.stderr()).toMatch(/^read \.env: set SANDBOX$/m);
    expect(server.stdout()).toContain(`GraphQL API ready at http://127.0.0.1:${envPort}/graphql`);
  });

  it('says nothing about .env when there is none', async () => {
    const port = await freePort();

    const server = startServer({ LOG_FORMAT: 'json', PORT: String(port) });
    await waitForHealth(server, port);

    expect(server.stderr()).not.toContain('.env');
  });
});
