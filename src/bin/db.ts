import { ConfigError, loadDbServerConfig } from '../config';
import { startEmbeddedDb } from '../embedded/startEmbeddedDb';
import { loadDotEnv } from './loadDotEnv';

/**
 * `npm run db`: the embedded database alone, in the foreground, data kept in DB_DATA_DIR. Prints
 * `MONGODB_URI=...` once it accepts connections, so another shell can point the API at it.
 */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadDbServerConfig();
  const db = await startEmbeddedDb({
    engine: config.engine,
    port: config.port,
    dataDir: config.dataDir,
  });
  process.stdout.write(`MONGODB_URI=${db.uri}\n`);
  process.stderr.write(`${db.engine} is serving data from ${config.dataDir}; Ctrl+C stops it.\n`);
  const stop = (): void => {
    db.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
