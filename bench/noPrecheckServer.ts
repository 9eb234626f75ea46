import path from 'node:path';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/database';
import { resolvers } from '../src/graphql/resolvers';
import { buildGuardedSchema, loadTypeDefs } from '../src/graphql/schema';
import { createServer } from '../src/server';
import { serveUntilSignalled } from './serveUntilSignalled';

// From dist-bench/bench/, the SDL is two folders up (the API's own lookup would miss it).
const SCHEMA_DIR = path.resolve(__dirname, '../../schema');

/**
 * Benchmark-only variant of the API without the pre-execution authorization check: the same
 * server, schema and guards, which then decide each guarded field as it resolves. Comparing it
 * with the API measures what deciding every guard before execution costs (docs/performance.md).
 *
 * Usage: node noPrecheckServer.js (configuration from the same environment as the API).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.mongodbUri) throw new Error('MONGODB_URI is required');
  const database = await connectDatabase(config.mongodbUri);
  const schema = buildGuardedSchema({ typeDefs: loadTypeDefs(SCHEMA_DIR), resolvers });
  const server = await createServer(config, {
    database,
    schema,
    authorizeBeforeExecution: false,
  });
  await serveUntilSignalled(server, database);
}

main().catch((error: unknown) => {
  process.stderr.write(`no-precheck server: ${String(error)}\n`);
  process.exit(1);
});
