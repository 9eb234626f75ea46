import type { EmbeddedDb } from '../src/embedded/embeddedDb';
import { startEmbeddedDb } from '../src/embedded/startEmbeddedDb';

declare global {
  var __EMBEDDED_DB__: EmbeddedDb | undefined;
}

/**
 * Starts one database for the whole run unless MONGODB_URI points at one; every test file then
 * works in a database of its own on it.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) return;
  const engine =
    process.env.EMBEDDED_DB === 'mongod' || process.env.EMBEDDED_DB === 'ferretdb'
      ? process.env.EMBEDDED_DB
      : 'auto';
  const db = await startEmbeddedDb({ engine });
  globalThis.__EMBEDDED_DB__ = db;
  process.env.MONGODB_URI = db.uri;
  process.env.TEST_DB_ENGINE = db.engine;
}
