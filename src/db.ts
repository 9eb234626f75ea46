import mongoose, { type Connection } from 'mongoose';
import { rateLimitHitModel, type RateLimitHitModel } from './models/RateLimitHit';
import { refreshTokenModel, type RefreshTokenModel } from './models/RefreshToken';
import { userModel, type UserModel } from './models/User';

/** The models a server instance works with, bound to its own connection. */
export interface Models {
  readonly User: UserModel;
  readonly RefreshToken: RefreshTokenModel;
  readonly RateLimitHit: RateLimitHitModel;
}

export interface Database {
  readonly connection: Connection;
  readonly models: Models;
  /** True when the server answers a ping within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Overrides the database named in the URI (tests give each file its own). */
  readonly dbName?: string;
}

/**
 * Opens a dedicated mongoose connection, registers the models on it and makes sure their indexes
 * exist before the first request (the unique email index is what makes duplicate registration
 * safe).
 */
export async function connectDatabase(
  uri: string,
  options: ConnectOptions = {},
): Promise<Database> {
  const connection = mongoose.createConnection(uri, {
    dbName: options.dbName,
    // Fail a query within seconds while the database is away instead of queueing it forever.
    bufferCommands: false,
    serverSelectionTimeoutMS: 5000,
    autoIndex: false,
    autoCreate: false,
  });
  await connection.asPromise();
  const models: Models = {
    User: userModel(connection),
    RefreshToken: refreshTokenModel(connection),
    RateLimitHit: rateLimitHitModel(connection),
  };
  await Promise.all([
    models.User.createIndexes(),
    models.RefreshToken.createIndexes(),
    models.RateLimitHit.createIndexes(),
  ]);

  return {
    connection,
    models,
    async ping(timeoutMs = 2000) {
      const db = connection.db;
      if (!db || connection.readyState !== mongoose.ConnectionStates.connected) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return await Promise.race([
          db.command({ ping: 1 }).then((reply) => reply.ok === 1),
          timeout,
        ]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await connection.close();
    },
  };
}
