import { ConfigError, loadConfig } from '../config';
import { connectDatabase } from '../db/database';
import type { DevDatabase } from '../embedded/devDatabase';
import { createServer } from '../server';
import { loadDotEnv } from './loadDotEnv';

// Time past SHUTDOWN_TIMEOUT for closing the database and the embedded server after requests in
// flight were given theirs.
const SHUTDOWN_GRACE_MS = 2000;

async function main(): Promise<void> {
  let config;
  try {
    loadDotEnv();
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

  if (!config.mail.smtpUrl) {
    warn(
      `SMTP_URL is not set: reset and verification mail is written to ${config.mail.outboxDir} ` +
        'and its link logged (development only). Production refuses to start without SMTP_URL.',
    );
  }

  let embedded: DevDatabase | undefined;
  let mongodbUri = config.mongodbUri;
  if (!mongodbUri) {
    // Loaded only here: a production image (MONGODB_URI always set) has no embedded database.
    const { openDevDatabase } = await import('../embedded/devDatabase.js');
    embedded = await openDevDatabase(config);
    mongodbUri = embedded.uri;
    warn(
      `MONGODB_URI is not set: started an embedded ${embedded.engine} at ${mongodbUri} (development only).`,
    );
  }

  const database = await connectDatabase(mongodbUri);
  const server = await createServer(config, { database });
  const log = server.app.log;
  let stopping = false;
  // The driver reconnects by itself; these lines tell operators when it had to.
  database.onAvailabilityChange(({ available, address, reason }) => {
    if (available) log.info({ address }, 'database reachable again');
    else if (!stopping) log.warn({ address, reason }, 'database unreachable');
  });

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    // The deadline holds whatever is still waiting (a close, the database, a log write): past
    // it the process ends with 1, the sign that it had to cut (docs/operations.md).
    setTimeout(() => {
      process.stderr.write('shutdown deadline passed: exiting without waiting any longer\n');
      process.exit(1);
    }, config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS);
    log.info({ signal, deadlineMs: config.shutdownTimeoutMs }, 'shutting down');
    let clean = false;
    try {
      clean = await server.close(config.shutdownTimeoutMs);
      await database.close();
      await embedded?.stop();
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
    }
    log.info({ clean }, 'stopped');
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGTERM', (signal) => void stop(signal));

  const url = await server.listen();
  log.info({ nodeEnv: config.nodeEnv }, `GraphQL API ready at ${url}/graphql`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
