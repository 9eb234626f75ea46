import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EmbeddedDbEngine } from '../config';
import type { EmbeddedDb } from './embeddedDb';
import { startFerretDb } from './ferretdb';
import type * as MongodModule from './mongod';
import { freePort } from './waitForPort';

// Where mongod could not be used (an offline machine), that is remembered for a day so every test
// run and dev restart does not wait for the download to time out again.
const MONGOD_UNAVAILABLE_MARKER = path.join(
  os.homedir(),
  '.cache',
  'graphql-jwt-auth',
  'mongod-unavailable',
);
const MARKER_TTL_MS = 24 * 60 * 60 * 1000;

export interface EmbeddedDbOptions {
  /** `auto` tries a real mongod first and falls back to FerretDB. */
  readonly engine: EmbeddedDbEngine;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Where data is kept across restarts; a temporary folder (removed on stop) when omitted. */
  readonly dataDir?: string;
  /** Progress messages for people (stderr by default). */
  readonly log?: (message: string) => void;
  /**
   * The file remembering for a day that mongod could not be used here (so `auto` goes straight to
   * FerretDB); `~/.cache/graphql-jwt-auth/mongod-unavailable` by default.
   */
  readonly mongodUnavailableMarker?: string;
}

async function mongodRecentlyUnavailable(marker: string): Promise<boolean> {
  const [stamp = ''] = (await readFile(marker, 'utf8').catch(() => '')).split('\n');
  return stamp !== '' && Date.now() - Number(stamp) < MARKER_TTL_MS;
}

/** Writes the time, then the reason for whoever opens the file. */
async function rememberMongodUnavailable(marker: string, reason: string): Promise<void> {
  await mkdir(path.dirname(marker), { recursive: true });
  await writeFile(marker, `${Date.now()}\n${reason}\n`);
}

/** Starts mongod; every failure, loading mongodb-memory-server included, is one line. */
function startMongod(port: number, dataDir: string | undefined): Promise<EmbeddedDb> {
  let mongod: typeof MongodModule;
  try {
    // Loaded only when tried: a production image, which always has MONGODB_URI, does not ship
    // mongodb-memory-server-core. `require` because this is CommonJS, where `import()` would be a
    // native ESM import, which Jest's module sandbox cannot run (globalSetup starts this).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mongod = require('./mongod') as typeof MongodModule;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return Promise.reject(new Error(`mongod could not be loaded (${reason})`, { cause: error }));
  }
  return mongod.startMongod(port, dataDir);
}

/**
 * Starts the embedded database (docs/development.md): a real mongod (mongodb-memory-server) where
 * one can be downloaded, FerretDB 1.24 with SQLite where it cannot. Falling back says why in one
 * line.
 */
export async function startEmbeddedDb(options: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const marker = options.mongodUnavailableMarker ?? MONGOD_UNAVAILABLE_MARKER;
  const port = options.port || (await freePort());
  const tempDir = options.dataDir ? undefined : await mkdtemp(path.join(os.tmpdir(), 'gja-db-'));
  const withTempCleanup = (db: EmbeddedDb): EmbeddedDb => ({
    ...db,
    async stop() {
      await db.stop();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  });

  const tryMongod =
    options.engine === 'mongod' ||
    (options.engine === 'auto' && !(await mongodRecentlyUnavailable(marker)));
  if (tryMongod) {
    try {
      const mongodDir = options.dataDir ? path.join(options.dataDir, 'mongod') : undefined;
      return withTempCleanup(await startMongod(port, mongodDir));
    } catch (error) {
      if (options.engine === 'mongod') throw error;
      const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      await rememberMongodUnavailable(marker, reason);
      log(`embedded database: ${reason}; using FerretDB 1.24 instead`);
    }
  }
  const ferretDir = path.join(options.dataDir ?? tempDir ?? '.', 'ferretdb');
  return withTempCleanup(await startFerretDb(port, ferretDir, log));
}
