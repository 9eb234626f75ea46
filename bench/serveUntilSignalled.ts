import type { Database } from '../src/db/database';
import type { AppServer } from '../src/server';

/**
 * Listens, and on SIGTERM or SIGINT closes the server and the database, then exits (0, or 1 when
 * closing failed): how the benchmark's variant servers run as processes of their own.
 */
export async function serveUntilSignalled(server: AppServer, database: Database): Promise<void> {
  const stop = (): void => {
    server
      .close()
      .then(() => database.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await server.listen();
}
