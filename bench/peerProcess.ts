import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitForHealth } from './serverProcess';

/**
 * The FastAPI + motor peer of the read path (`bench/peer/fastapi_me.py`) in a child process:
 * uvicorn with its defaults, one worker, as a plain deployment runs it. Its Python modules come
 * from the system (Debian: python3-fastapi, python3-motor, python3-jwt, python3-uvicorn); the
 * bench never installs them, it reports the peer as not installed instead.
 */

/** The interpreter Debian's python3-* packages install into (a virtualenv's would lack them). */
const PYTHON = '/usr/bin/python3';
const MODULES = ['fastapi', 'motor', 'jwt', 'uvicorn'] as const;
const PEER_DIR = path.resolve(__dirname, '../../bench/peer');

export interface PeerProcess {
  /** Base URL, for example http://127.0.0.1:41234. */
  readonly url: string;
  readonly pid: number;
  /** uvicorn's event loop and HTTP parser here, for the report ("uvloop + httptools"). */
  readonly stack: string;
  /** Throws if the process has died. */
  assertAlive(): void;
  stop(): Promise<void>;
}

/** Why the peer cannot run on this machine, or undefined when its modules import. */
export function peerUnavailable(): string | undefined {
  const check = spawnSync(PYTHON, ['-c', `import ${MODULES.join(', ')}`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (check.error) return `not installed (${PYTHON}: ${check.error.message})`;
  if (check.status !== 0) {
    const reason = check.stderr.trim().split('\n').at(-1) ?? `exit code ${check.status}`;
    return `not installed (${reason})`;
  }
  return undefined;
}

/**
 * What uvicorn runs on with its defaults: uvloop and httptools when they import (a
 * `uvicorn[standard]` install, as FastAPI's own documentation sets up; Debian: python3-uvloop,
 * python3-httptools), asyncio and h11 otherwise. The faster pair makes the peer stronger.
 */
function peerStack(): string {
  // One interpreter start for both questions: find_spec looks a module up without importing it.
  const script = [
    'from importlib.util import find_spec as found',
    "print(('uvloop' if found('uvloop') else 'asyncio') + ' + ' + ('httptools' if found('httptools') else 'h11'))",
  ].join('\n');
  const answer = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  return answer.status === 0 ? answer.stdout.trim() : 'asyncio + h11';
}

/**
 * Starts the peer on `port` with `env` (the API's: JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE,
 * MONGODB_URI) and resolves once its `/health` answers.
 */
export async function startPeerProcess(
  env: Readonly<Record<string, string>>,
  port: number,
): Promise<PeerProcess> {
  const child: ChildProcess = spawn(
    PYTHON,
    [
      ...['-m', 'uvicorn', 'fastapi_me:app', '--app-dir', PEER_DIR],
      ...['--host', '127.0.0.1', '--port', String(port)],
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ...env,
        // No __pycache__ in the work tree.
        PYTHONDONTWRITEBYTECODE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  // Whatever ends the benchmark, the peer does not outlive it.
  process.once('exit', kill);
  // The access log (one line per request, uvicorn's default like the API's request log) is
  // drained and only its tail kept, for the error message if the peer dies.
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('error', (error) => keep(Buffer.from(`${error.message}\n`)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const died = (): Error =>
    new Error(`peer exited (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`);

  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, 30_000);
  if (hasExited()) throw died();
  return {
    url,
    pid: child.pid ?? 0,
    stack: peerStack(),
    assertAlive() {
      if (hasExited()) throw died();
    },
    async stop() {
      process.removeListener('exit', kill);
      if (hasExited()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
