import { Schema, type Connection, type HydratedDocument, type Model, type Types } from 'mongoose';

/** What a recovery token lets its holder do once. */
export const RECOVERY_PURPOSES = ['password-reset', 'email-verification'] as const;
export type RecoveryPurpose = (typeof RECOVERY_PURPOSES)[number];

/**
 * One mailed password-reset or email-verification token (docs/recovery.md). The document's `_id`
 * is the SHA-256 hash of the token, so redeeming one is a primary-key lookup and the token itself
 * is never stored. `expiresAt` is checked in code; the periodic purge is only housekeeping
 * (FerretDB has no TTL indexes).
 */
export interface RecoveryTokenFields {
  _id: string;
  purpose: RecoveryPurpose;
  userId: Types.ObjectId;
  /** The address the token was mailed to: it must still be the account's when redeemed. */
  email: string;
  /**
   * Reset tokens: a hash of the password hash at issue time. Any password change since then
   * (changePassword, another reset) makes it differ, which voids the token without a write here.
   */
  passwordFingerprint: string | null;
  expiresAt: Date;
  createdAt: Date;
  /** Only on the one document per user and purpose that names the newest token (its `_id`). */
  newest?: string;
}

export type RecoveryTokenDocument = HydratedDocument<RecoveryTokenFields>;
export type RecoveryTokenModel = Model<RecoveryTokenFields>;

const recoveryTokenSchema = new Schema<RecoveryTokenFields>(
  {
    _id: { type: String, required: true },
    purpose: { type: String, enum: RECOVERY_PURPOSES, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    email: { type: String, required: true },
    passwordFingerprint: { type: String, default: null },
    expiresAt: { type: Date, required: true, index: true },
    newest: { type: String },
  },
  { versionKey: false, timestamps: { createdAt: true, updatedAt: false } },
);

/** Registers the RecoveryToken model on a connection. */
export function recoveryTokenModel(connection: Connection): RecoveryTokenModel {
  return (
    connection.models.RecoveryToken ??
    connection.model<RecoveryTokenFields>('RecoveryToken', recoveryTokenSchema)
  );
}
