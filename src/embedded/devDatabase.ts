import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EmbeddedDbEngine } from '../config';
import { startEmbeddedDb, type EmbeddedDb } from './startEmbeddedDb';
import { waitForPort } from './waitForPort';

/** Where `npm run dev` keeps its embedded database, so accounts survive restarts. */
export const DEV_DATA_DIR = '.data/dev';
const URI_FILE = path.join(DEV_DATA_DIR, 'uri');

/** Starts the development database and records its URI for `npm run cli`. */
export async function startDevDatabase(engine: EmbeddedDbEngine): Promise<EmbeddedDb> {
  const db = await startEmbeddedDb({ engine, dataDir: DEV_DATA_DIR });
  await mkdir(DEV_DATA_DIR, { recursive: true });
  await writeFile(URI_FILE, db.uri);
  return {
    ...db,
    async stop() {
      await rm(URI_FILE, { force: true });
      await db.stop();
    },
  };
}

/** The URI of a running `npm run dev` database, if one answers. */
export async function runningDevDatabaseUri(): Promise<string | undefined> {
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
