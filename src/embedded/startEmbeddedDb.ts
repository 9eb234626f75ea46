import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EmbeddedDbEngine } from '../config';
import { startFerretDb } from './ferretdb';
import { startMongod } from './mongod';
import { freePort } from './waitForPort';

/** A MongoDB-compatible server started by this process. */
export interface EmbeddedDb {
  readonly engine: 'mongod' | 'ferretdb';
  readonly uri: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmbeddedDbOptions {
  /** `auto` tries a real mongod first and falls back to FerretDB. */
  readonly engine: EmbeddedDbEngine;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Where data is kept across restarts; a temporary folder (removed on stop) when omitted. */
  readonly dataDir?: string;
  /** Progress messages for people (stderr by default). */
  readonly log?: (message: string) => void;
}

// Where mongod could not be downloaded (an offline machine), remember it for a day so every test
// run and dev restart does not wait for the download to time out again.
const DOWNLOAD_FAILED_MARKER = path.join(
  os.homedir(),
  '.cache',
  'graphql-jwt-auth',
  'mongod-unavailable',
);
const MARKER_TTL_MS = 24 * 60 * 60 * 1000;

async function mongodRecentlyUnavailable(): Promise<boolean> {
  const stamp = await readFile(DOWNLOAD_FAILED_MARKER, 'utf8').catch(() => '');
  return stamp !== '' && Date.now() - Number(stamp) < MARKER_TTL_MS;
}

async function rememberMongodUnavailable(): Promise<void> {
  await mkdir(path.dirname(DOWNLOAD_FAILED_MARKER), { recursive: true });
  await writeFile(DOWNLOAD_FAILED_MARKER, String(Date.now()));
}

/**
 * Starts the embedded database of DESIGN §6: a real mongod (mongodb-memory-server) where one can be
 * downloaded, FerretDB 1.24 with SQLite where it cannot.
 */
export async function startEmbeddedDb(options: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
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
    (options.engine === 'auto' && !(await mongodRecentlyUnavailable()));
  if (tryMongod) {
    try {
      const mongodDir = options.dataDir ? path.join(options.dataDir, 'mongod') : undefined;
      return withTempCleanup(await startMongod(port, mongodDir));
    } catch (error) {
      if (options.engine === 'mongod') throw error;
      await rememberMongodUnavailable();
      log(
        `mongod is not available here (${(error as Error).message.split('\n')[0]}); using FerretDB`,
      );
    }
  }
  const ferretDir = path.join(options.dataDir ?? tempDir ?? '.', 'ferretdb');
  return withTempCleanup(await startFerretDb(port, ferretDir));
}
