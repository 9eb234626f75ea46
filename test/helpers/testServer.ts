import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLSchema } from 'graphql';
import { loadConfig, type Config } from '../../src/config';
import { connectDatabase, type Database } from '../../src/db/database';
import type { LogStream } from '../../src/logging/logger';
import { createServer, type AppServer } from '../../src/server';

/** A fixed secret so tests can forge tokens with it on purpose. */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface GraphQLResponse<TData = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: TData | null;
    errors?: Array<{
      message: string;
      path?: Array<string | number>;
      extensions?: Record<string, unknown>;
    }>;
  };
}

/** An operation as a typed document from client/generated, or as text. */
export type Operation<TData, TVariables> = string | TypedDocumentNode<TData, TVariables>;

/** Sends a typed document (client/operations via codegen) or, for odd documents, a string. */
export type Gql = <TData = Record<string, unknown>, TVariables = Record<string, unknown>>(
  operation: Operation<TData, TVariables>,
  variables?: TVariables,
  options?: RequestOptions,
) => Promise<GraphQLResponse<TData>>;

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  config: Config;
  database: Database;
  server: AppServer;
  gql: Gql;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  schema?: GraphQLSchema;
  /** Share a database between servers (scale-out tests); a fresh one by default. */
  dbName?: string;
  /** Emit the driver's command events on the server's connection. */
  monitorCommands?: boolean;
  /** Receives the server's JSON log lines (at info level); no logging when omitted. */
  logStream?: LogStream;
  /** Time a client has to send a whole request (the server's default otherwise). */
  requestTimeoutMs?: number;
}

/** POSTs a GraphQL operation to `baseUrl`/graphql. */
export async function postGraphQL<TData, TVariables = Record<string, unknown>>(
  baseUrl: string,
  operation: Operation<TData, TVariables>,
  variables?: TVariables,
  options: RequestOptions = {},
): Promise<GraphQLResponse<TData>> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...options.headers,
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      query: typeof operation === 'string' ? operation : print(operation),
      variables,
    }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as GraphQLResponse<TData>['body'],
  };
}

/** A unique database name for one test file. */
export function uniqueDbName(): string {
  return `test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Starts the real server on a free loopback port against the run's real database. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const mongodbUri = process.env.MONGODB_URI;
  if (!mongodbUri)
    throw new Error('MONGODB_URI is not set: the jest globalSetup should have set it');
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    BCRYPT_COST: '4',
    MONGODB_URI: mongodbUri,
    PORT: '0',
    ...options.env,
  });
  const dbName = options.dbName ?? uniqueDbName();
  const database = await connectDatabase(mongodbUri, {
    dbName,
    monitorCommands: options.monitorCommands,
  });
  const server = await createServer(config, {
    database,
    schema: options.schema,
    logLevel: options.logStream ? 'info' : 'silent',
    logStream: options.logStream,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const url = await server.listen(0, '127.0.0.1');

  return {
    url,
    config,
    database,
    server,
    gql: (query, variables, requestOptions) => postGraphQL(url, query, variables, requestOptions),
    async close() {
      await server.close();
      if (!options.dbName) await database.connection.dropDatabase().catch(() => undefined);
      await database.close();
    },
  };
}
