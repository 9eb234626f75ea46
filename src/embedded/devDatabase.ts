import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import type { EmbeddedDb } from './embeddedDb';
import { startEmbeddedDb } from './startEmbeddedDb';
import { waitForPort } from './waitForPort';

/** Where `npm run dev` keeps its embedded database, so accounts survive restarts. */
export const DEV_DATA_DIR = '.data/dev';
const URI_FILE = path.join(DEV_DATA_DIR, 'uri');

/** The database a development command uses when MONGODB_URI is unset. */
export interface DevDatabase {
  readonly uri: string;
  /** The engine this process started; `undefined` for a running `npm run dev` database reused. */
  readonly engine: EmbeddedDb['engine'] | undefined;
  /** Stops the database if this process started it. */
  stop(): Promise<void>;
}

export interface OpenDevDatabaseOptions {
  /**
   * Use the database of a running `npm run dev` when one answers (`npm run cli`). Off by default:
   * a server starts the database itself, and two servers must not both start one on the same data.
   */
  readonly reuseRunning?: boolean;
}

/** The URI of a running `npm run dev` database, if one answers. */
async function runningDevDatabaseUri(): Promise<string | undefined> {
  const uri = (await readFile(URI_FILE, 'utf8').catch(() => '')).trim();
  const port = Number(/:(\d+)\/?$/.exec(uri)?.[1]);
  if (!port) return undefined;
  try {
    await waitForPort(port, 200);
    return uri;
  } catch {
    return undefined;
  }
}

/**
 * Opens the development database (data in {@link DEV_DATA_DIR}) for a command run without
 * MONGODB_URI, and records its URI so `npm run cli` can find it while it runs.
 */
export async function openDevDatabase(
  config: Pick<Config, 'embeddedDb'>,
  options: OpenDevDatabaseOptions = {},
): Promise<DevDatabase> {
  const running = options.reuseRunning ? await runningDevDatabaseUri() : undefined;
  if (running) return { uri: running, engine: undefined, stop: () => Promise.resolve() };

  const db = await startEmbeddedDb({ engine: config.embeddedDb, dataDir: DEV_DATA_DIR });
  await mkdir(DEV_DATA_DIR, { recursive: true });
  await writeFile(URI_FILE, db.uri);
  return {
    uri: db.uri,
    engine: db.engine,
    async stop() {
      await rm(URI_FILE, { force: true });
      await db.stop();
    },
  };
}
