import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { loadConfig } from '../src/config';
import type { GraphQLContext, RequestAuth } from '../src/graphql/context';
import { connectDatabase } from '../src/db/database';
import type { QueryResolvers, Resolvers } from '../src/generated/graphql';
import { resolvers } from '../src/graphql/resolvers';
import { loadTypeDefs } from '../src/graphql/schema';
import { createServer } from '../src/server';
import { serveUntilSignalled } from './serveUntilSignalled';

/**
 * Benchmark-only variant of the API with authentication taken out: the same Fastify + Apollo
 * server, SDL, resolvers and user lookup, but the schema is built without the `@auth` transformer
 * and `me` sees a context whose claims are made up instead of verified. Requests carry no bearer
 * token. Comparing it with the real server measures what authentication costs and nothing else.
 *
 * Usage: node unguardedServer.js <userId> <sessionId> (configuration from the same environment as
 * the API). The session must be live: `me` still checks it, as the API does.
 */

const SCHEMA_DIR = path.resolve(__dirname, '../../schema');

/** The API's schema with `me` answering for `userId`, and no `@auth` transformer applied. */
export function buildUnguardedSchema(userId: string, sessionId: string): GraphQLSchema {
  const auth: RequestAuth = {
    status: 'authenticated',
    claims: {
      sub: userId,
      roles: ['USER'],
      sid: sessionId,
      fresh: false,
      scopes: [],
      clientId: null,
      jti: 'bench',
      iat: 0,
      exp: Number.MAX_SAFE_INTEGER,
    },
  };
  const me = resolvers.Query?.me;
  if (typeof me !== 'function') throw new Error('Query.me has no resolver');
  const fakeClaimsMe: QueryResolvers<GraphQLContext>['me'] = (root, args, context, info) =>
    me(root, args, { ...context, auth }, info);
  const unguarded: Resolvers = { ...resolvers, Query: { ...resolvers.Query, me: fakeClaimsMe } };
  return makeExecutableSchema({ typeDefs: loadTypeDefs(SCHEMA_DIR), resolvers: unguarded });
}

async function main(): Promise<void> {
  const [userId, sessionId] = process.argv.slice(2);
  if (!userId || !sessionId) throw new Error('usage: unguardedServer <userId> <sessionId>');
  const config = loadConfig();
  if (!config.mongodbUri) throw new Error('MONGODB_URI is required');
  const database = await connectDatabase(config.mongodbUri);
  const server = await createServer(config, {
    database,
    schema: buildUnguardedSchema(userId, sessionId),
  });
  await serveUntilSignalled(server, database);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`unguarded server: ${String(error)}\n`);
    process.exit(1);
  });
}
