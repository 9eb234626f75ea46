import { mkdir } from 'node:fs/promises';
import { MongoBinary, MongoMemoryServer, errors } from 'mongodb-memory-server-core';
import type { EmbeddedDb } from './embeddedDb';

/** The first line of what went wrong: a download error's own detail rather than its long URL. */
function reason(error: unknown): string {
  const text =
    error instanceof errors.DownloadError ? error.msg : error instanceof Error ? error.message : '';
  return text.split('\n')[0]?.trim() || String(error);
}

/** ` from <host>` for a download error with a URL, else nothing. */
function source(error: unknown): string {
  if (!(error instanceof errors.DownloadError)) return '';
  const host = URL.parse(error.url)?.host;
  return host ? ` from ${host}` : '';
}

/**
 * Starts a real mongod through mongodb-memory-server (downloaded and cached on first use). With a
 * `dataDir` the data is kept across restarts (wiredTiger on disk); without one it lives in a
 * temporary folder removed on stop. Fails with a one-line message (the library's error as its
 * `cause`) saying whether the download or the start went wrong.
 */
export async function startMongod(port: number, dataDir: string | undefined): Promise<EmbeddedDb> {
  // Fetching the binary first keeps an offline machine's DownloadError ours to report in one
  // line: inside MongoMemoryServer.create the library would first print its whole stack itself.
  await MongoBinary.getPath().catch((error: unknown) => {
    throw new Error(`mongod could not be downloaded${source(error)} (${reason(error)})`, {
      cause: error,
    });
  });
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const server = await MongoMemoryServer.create({
    instance: {
      ip: '127.0.0.1',
      port,
      ...(dataDir ? { dbPath: dataDir, storageEngine: 'wiredTiger' as const } : {}),
    },
  }).catch((error: unknown) => {
    throw new Error(`mongod could not start (${reason(error)})`, { cause: error });
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
