import mongoose, { type Connection } from 'mongoose';
import { rateLimitBucketModel, type RateLimitBucketModel } from './models/RateLimitBucket';
import { rateLimitHitModel, type RateLimitHitModel } from './models/RateLimitHit';
import { recoveryTokenModel, type RecoveryTokenModel } from './models/RecoveryToken';
import { refreshSecretModel, type RefreshSecretModel } from './models/RefreshSecret';
import { refreshTokenModel, type RefreshTokenModel } from './models/RefreshToken';
import { sessionModel, type SessionModel } from './models/Session';
import { userModel, type UserModel } from './models/User';
import { userEmailModel, type UserEmailModel } from './models/UserEmail';

/**
 * The models a server instance works with, bound to its own connection. Every collection is read
 * and written by `_id` on the request path (docs/data-model.md).
 */
export interface Models {
  readonly User: UserModel;
  readonly UserEmail: UserEmailModel;
  readonly Session: SessionModel;
  readonly RefreshSecret: RefreshSecretModel;
  readonly RateLimitHit: RateLimitHitModel;
  readonly RecoveryToken: RecoveryTokenModel;
  readonly RateLimitBucket: RateLimitBucketModel;
  /** The refresh tokens of earlier versions, read only by `npm run cli -- migrate`. */
  readonly LegacyRefreshToken: RefreshTokenModel;
}

export interface Database {
  readonly connection: Connection;
  readonly models: Models;
  /** True when the server answers a ping within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** Calls `listener` whenever the driver loses a database server or finds it again. */
  onAvailabilityChange(listener: (change: AvailabilityChange) => void): void;
  close(): Promise<void>;
}

/** The driver lost or regained a database server. */
export interface AvailabilityChange {
  readonly available: boolean;
  /** host:port of the server. */
  readonly address: string;
  /** Why it was lost, in the driver's words (for operators, never for clients). */
  readonly reason?: string;
}

/** True for MongoDB's duplicate-key error (code 11000): a unique index refused a write. */
export function isDuplicateKeyError(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}

/**
 * Runs an upsert, once more if it lost the race to create its document. Two upserts of a document
 * that does not exist yet can both try to insert it; the loser fails with a duplicate key on
 * MongoDB and FerretDB alike, and its second try finds the document and updates it.
 */
export async function upsertRetryingRace<T>(upsert: () => Promise<T>): Promise<T> {
  try {
    return await upsert();
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    return upsert();
  }
}

export interface ConnectOptions {
  /** Overrides the database named in the URI (tests give each file its own). */
  readonly dbName?: string;
  /** Emit the driver's command events (tests check what each operation sends; docs/data-model.md). */
  readonly monitorCommands?: boolean;
  /**
   * How long a reply may take (5 s by default). Only bulk work such as the benchmark's fill of
   * a million users needs more; requests never do.
   */
  readonly socketTimeoutMS?: number;
}

/**
 * Opens a dedicated mongoose connection, registers the models on it and makes sure their indexes
 * exist before the first request. The only secondary indexes are on `expiresAt`, for the scheduled
 * purge; uniqueness comes from `_id` alone (docs/data-model.md).
 */
export async function connectDatabase(
  uri: string,
  options: ConnectOptions = {},
): Promise<Database> {
  const connection = mongoose.createConnection(uri, {
    dbName: options.dbName,
    monitorCommands: options.monitorCommands ?? false,
    // Fail a query within seconds while the database is away instead of queueing it forever. A
    // stopped server refuses connections and fails queries at once; one that stops answering
    // (a network partition) costs a query its socket timeout plus the connect timeouts of the
    // driver's retry, about 11 s.
    bufferCommands: false,
    serverSelectionTimeoutMS: 5000,
    connectTimeoutMS: 3000,
    // Applies only while waiting for a reply. Every query here is an indexed lookup, so 5 s of
    // silence means the server is gone, not busy.
    socketTimeoutMS: options.socketTimeoutMS ?? 5000,
    autoIndex: false,
    autoCreate: false,
  });
  await connection.asPromise();
  const models: Models = {
    User: userModel(connection),
    UserEmail: userEmailModel(connection),
    Session: sessionModel(connection),
    RefreshSecret: refreshSecretModel(connection),
    RateLimitHit: rateLimitHitModel(connection),
    RecoveryToken: recoveryTokenModel(connection),
    RateLimitBucket: rateLimitBucketModel(connection),
    LegacyRefreshToken: refreshTokenModel(connection),
  };
  // Not the legacy collection: its indexes belong to the storage it came from.
  await Promise.all([
    models.Session.createIndexes(),
    models.RefreshSecret.createIndexes(),
    models.RateLimitHit.createIndexes(),
    models.RecoveryToken.createIndexes(),
    models.RateLimitBucket.createIndexes(),
  ]);

  let closed = false;
  return {
    connection,
    models,
    async ping(timeoutMs = 2000) {
      const db = connection.db;
      // Pinging even while the driver reports the server lost makes it look again at once,
      // rather than at its next heartbeat, so readiness comes back as soon as the database does.
      if (!db || closed) return false;
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
    onAvailabilityChange(listener) {
      connection.getClient().on('serverDescriptionChanged', (event) => {
        const wasUp = event.previousDescription.type !== 'Unknown';
        const isUp = event.newDescription.type !== 'Unknown';
        if (wasUp === isUp) return;
        listener({
          available: isUp,
          address: event.address,
          reason: event.newDescription.error?.message,
        });
      });
    },
    async close() {
      closed = true;
      await connection.close();
    },
  };
}
