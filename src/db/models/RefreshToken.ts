import { Schema, type Connection, type HydratedDocument, type Model, type Types } from 'mongoose';

/**
 * The previous storage of refresh tokens, one document per token (and so per rotation). Nothing
 * reads it any more except `npm run cli -- migrate`, which converts its live sessions into the
 * current model (docs/data-model.md, "Data from earlier versions"). Tokens of one sign-in form a family (`familyId`, the session id of
 * the access token's `sid`); each rotation adds a token whose `rotatedFrom` is its predecessor's
 * hash. Only SHA-256 hashes are stored, never the token itself.
 */
export interface RefreshTokenFields {
  tokenHash: string;
  // Unique: of several concurrent rotations of the same token only one successor can be inserted,
  // so the database itself serialises rotation (no transaction or findAndModify needed).
  rotatedFrom: string;
  familyId: string;
  userId: Types.ObjectId;
  /** When this token stops working on its own (REFRESH_TOKEN_TTL, capped by the session). */
  expiresAt: Date;
  /** Absolute end of the session (SESSION_MAX_AGE after the sign-in). */
  sessionExpiresAt: Date;
  sessionCreatedAt: Date;
  /** Set when this token was exchanged for its successor. */
  usedAt: Date | null;
  revokedAt: Date | null;
  revokedReason: string | null;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
}

export type RefreshTokenDocument = HydratedDocument<RefreshTokenFields>;
export type RefreshTokenModel = Model<RefreshTokenFields>;

const refreshTokenSchema = new Schema<RefreshTokenFields>(
  {
    tokenHash: { type: String, required: true, unique: true },
    rotatedFrom: { type: String, required: true, unique: true },
    familyId: { type: String, required: true, index: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    expiresAt: { type: Date, required: true, index: true },
    sessionExpiresAt: { type: Date, required: true },
    sessionCreatedAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null, index: true },
    revokedReason: { type: String, default: null },
    userAgent: { type: String, default: null },
    ip: { type: String, default: null },
  },
  { timestamps: { createdAt: true, updatedAt: false } },
);

/** Registers the RefreshToken model on a connection. */
export function refreshTokenModel(connection: Connection): RefreshTokenModel {
  return (
    connection.models.RefreshToken ??
    connection.model<RefreshTokenFields>('RefreshToken', refreshTokenSchema)
  );
}
