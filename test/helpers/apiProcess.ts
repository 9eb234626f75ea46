import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { postGraphQL, TEST_JWT_SECRET, type Gql } from './testServer';

export { postGraphQL };

const ROOT = path.resolve(__dirname, '../..');
const running = new Set<ChildProcess>();

/**
 * Kills every API process a test left running (for afterAll, when a test failed midway), and
 * resolves once they are gone: a child's open pipes would otherwise keep the Jest worker alive
 * past its exit.
 */
export async function killApiProcesses(): Promise<void> {
  const children = [...running];
  running.clear();
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

export interface ApiProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout so far (its JSON log lines). */
  stdout(): string;
  stderr(): string;
  gql: Gql;
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code when the process exits by itself. */
  exited(): Promise<number | null>;
}

export interface ApiProcessOptions {
  /** Added to (and overriding) a test environment with a fixed JWT_SECRET and PORT=0. */
  readonly env: Record<string, string>;
  /** The command line after `node`; `src/bin/server.ts` through tsx by default. */
  readonly args?: readonly string[];
  readonly cwd?: string;
  readonly startTimeoutMs?: number;
}

/** A database URI on the run's database server, with a database of its own. */
export function databaseUri(dbName: string): string {
  const base = process.env.MONGODB_URI;
  if (!base) throw new Error('MONGODB_URI is not set: the jest globalSetup should have set it');
  return `${base.replace(/\/?$/, '/')}${dbName}`;
}

/**
 * Starts the API as its own process, the way it runs in production (`src/bin/server.ts` by default),
 * and resolves once it logs that it is ready.
 */
export async function startApiProcess(options: ApiProcessOptions): Promise<ApiProcess> {
  const child = spawn(
    process.execPath,
    [...(options.args ?? ['--import', 'tsx', 'src/bin/server.ts'])],
    {
      cwd: options.cwd ?? ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        JWT_SECRET: TEST_JWT_SECRET,
        BCRYPT_COST: '4',
        PORT: '0',
        HOST: '127.0.0.1',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the API did not start in time:\n${stdout}\n${stderr}`));
    }, options.startTimeoutMs ?? 30_000);
    const onData = (): void => {
      const match = /GraphQL API ready at (http:\/\/\S+)\/graphql/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(match[1]!);
    };
    child.stdout?.on('data', onData);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the API exited with ${code} before it was ready:\n${stdout}\n${stderr}`));
    });
  });

  return {
    url,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    gql: (query, variables, requestOptions) => postGraphQL(url, query, variables, requestOptions),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
    exited: () => exit,
  };
}
