import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * One session (a sign-in and its refresh tokens), keyed by the session id that is also the `sid`
 * claim of its access tokens (docs/data-model.md, "sessions"). It exists exactly as long as the
 * session is live: revoking a session deletes it, so no concurrent update can undo a revocation.
 */
export interface SessionFields {
  _id: string;
  userId: Types.ObjectId;
  createdAt: Date;
  /** The last sign-in or refresh. */
  lastUsedAt: Date;
  /** When the newest refresh token expires: the session ends then unless refreshed. */
  expiresAt: Date;
  /** Absolute end of the session (SESSION_MAX_AGE after the sign-in). */
  sessionExpiresAt: Date;
  /** Generation of the newest refresh token; a hint for clean-up, never used to decide. */
  generation: number;
  userAgent: string | null;
  ip: string | null;
}

export type SessionModel = Model<SessionFields>;

const sessionSchema = new Schema<SessionFields>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    sessionExpiresAt: { type: Date, required: true },
    generation: { type: Number, required: true },
    userAgent: { type: String, default: null },
    ip: { type: String, default: null },
  },
  { versionKey: false },
);
// For the scheduled purge only (src/sessions/tokenPurge.ts); no request reads through it.
sessionSchema.index({ expiresAt: 1 });

/** Registers the Session model on a connection. */
export function sessionModel(connection: Connection): SessionModel {
  return connection.models.Session ?? connection.model<SessionFields>('Session', sessionSchema);
}
