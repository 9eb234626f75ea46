import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One refresh token of a session, as the SHA-256 hash of its secret (docs/data-model.md,
 * "refreshsecrets"). Keyed `<sessionId>:<generation>`: rotating generation g inserts g + 1, and
 * since `_id` is unique, of several concurrent rotations of one token exactly one insert succeeds.
 * Only the newest few generations are kept, so a session holds a bounded number of these however
 * often it refreshes. Tokens migrated from the previous storage are keyed `legacy:<hash>`.
 */
export interface RefreshSecretFields {
  _id: string;
  sessionId: string;
  generation: number;
  secretHash: string;
  /** When this token stops working on its own (REFRESH_TOKEN_TTL, capped by the session). */
  expiresAt: Date;
  /**
   * When the token was issued, which for every generation after the first is when its predecessor
   * was exchanged: the start of that predecessor's grace window (docs/sessions.md). Absent on
   * secrets written before the window existed, which then get no grace.
   */
  createdAt?: Date;
}

export type RefreshSecretModel = Model<RefreshSecretFields>;

const refreshSecretSchema = new Schema<RefreshSecretFields>(
  {
    _id: { type: String, required: true },
    sessionId: { type: String, required: true },
    generation: { type: Number, required: true },
    secretHash: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    createdAt: { type: Date },
  },
  { versionKey: false },
);
// For the scheduled purge only.
refreshSecretSchema.index({ expiresAt: 1 });

/** Registers the RefreshSecret model on a connection. */
export function refreshSecretModel(connection: Connection): RefreshSecretModel {
  return (
    connection.models.RefreshSecret ??
    connection.model<RefreshSecretFields>('RefreshSecret', refreshSecretSchema)
  );
}
