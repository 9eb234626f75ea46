import { ConfigError, loadConfig } from './config';
import { connectDatabase } from './db';
import { startDevDatabase } from './embedded/devDatabase';
import type { EmbeddedDb } from './embedded/startEmbeddedDb';
import { createServer } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const warn = (message: string): void => {
    process.stderr.write(`\n  WARNING: ${message}\n\n`);
  };
  if (config.jwt.secretIsEphemeral) {
    warn(
      'JWT_SECRET is not set: using a random secret for this process only (development only). ' +
        'Tokens stop working on restart. Production refuses to start without JWT_SECRET.',
    );
  }

  let embedded: EmbeddedDb | undefined;
  let mongodbUri = config.mongodbUri;
  if (!mongodbUri) {
    embedded = await startDevDatabase(config.embeddedDb);
    mongodbUri = embedded.uri;
    warn(
      `MONGODB_URI is not set: started an embedded ${embedded.engine} at ${mongodbUri} (development only).`,
    );
  }

  const database = await connectDatabase(mongodbUri);
  const server = await createServer(config, { database });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    await server.close();
    await database.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  const url = await server.listen();
  server.app.log.info(`GraphQL API ready at ${url}/graphql`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
