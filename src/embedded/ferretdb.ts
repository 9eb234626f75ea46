import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { EmbeddedDb } from './embeddedDb';
import { ferretDbBinary } from './ferretDbBinary';
import { waitForPort } from './waitForPort';

/**
 * Go's garbage collector settings for FerretDB (docs/data-model.md, "The embedded database"):
 * collect when the heap has grown tenfold instead of doubled, and harder as it nears 512 MiB. Each
 * find decodes a stored document into short-lived garbage; on a read-heavy load this takes about
 * a third off FerretDB's CPU per find. A variable already in the environment wins.
 */
const FERRETDB_GC = {
  GOGC: process.env.GOGC ?? '1000',
  GOMEMLIMIT: process.env.GOMEMLIMIT ?? '512MiB',
};

/**
 * Starts FerretDB 1.24 with its SQLite backend, storing data under `dataDir`; `log` hears about a
 * first build of the binary.
 */
export async function startFerretDb(
  port: number,
  dataDir: string,
  log?: (message: string) => void,
): Promise<EmbeddedDb> {
  const binary = await ferretDbBinary({ log });
  await mkdir(dataDir, { recursive: true });
  // A small shell watchdog owns FerretDB and stops it when our end of its stdin closes, which
  // happens however this process ends (even SIGKILL), so no database outlives its owner.
  const watchdog = 'trap "" INT; "$0" "$@" & db=$!; read -r _; kill "$db" 2>/dev/null; wait "$db"';
  const child: ChildProcess = spawn(
    'bash',
    [
      '-c',
      watchdog,
      binary,
      `--listen-addr=127.0.0.1:${port}`,
      '--handler=sqlite',
      `--sqlite-url=file:${path.resolve(dataDir)}/`,
      '--state-dir=-',
      '--telemetry=disable',
      '--debug-addr=-',
      '--log-level=error',
    ],
    { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, ...FERRETDB_GC } },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });

  const exited = new Promise<never>((_resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`FerretDB exited with code ${code}: ${stderr}`)));
  });
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port, 30_000), exited]);

  return {
    engine: 'ferretdb',
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
