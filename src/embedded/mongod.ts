import { mkdir } from 'node:fs/promises';
import { MongoMemoryServer } from 'mongodb-memory-server-core';
import type { EmbeddedDb } from './startEmbeddedDb';

/**
 * Starts a real mongod through mongodb-memory-server (downloaded and cached on first use). With a
 * `dataDir` the data is kept across restarts (wiredTiger on disk); without one it lives in a
 * temporary folder removed on stop.
 */
export async function startMongod(port: number, dataDir: string | undefined): Promise<EmbeddedDb> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const server = await MongoMemoryServer.create({
    instance: {
      ip: '127.0.0.1',
      port,
      ...(dataDir ? { dbPath: dataDir, storageEngine: 'wiredTiger' as const } : {}),
    },
  });
  return {
    engine: 'mongod',
    uri: server.getUri(),
    port,
    async stop() {
      await server.stop({ doCleanup: !dataDir, force: false });
    },
  };
}
