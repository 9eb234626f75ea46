import { Schema, type Connection, type HydratedDocument, type Model, type Types } from 'mongoose';
import { ROLES, type RoleName } from '../../config';

// The role list is a choice list of the configuration, which checks the role→scope map against it.
export { ROLES, type RoleName };

/** A user as stored. `email` is always the normalised (trimmed, lower-case) address. */
export interface UserFields {
  email: string;
  passwordHash: string;
  name: string | null;
  roles: RoleName[];
  /** Whether the owner of `email` followed a verification link (docs/recovery.md). */
  emailVerified: boolean;
  /**
   * Sessions revoked while access tokens of theirs may still be unexpired. Kept on the user so that
   * the one lookup that loads the caller also tells whether their session still counts.
   */
  revokedSessions: RevokedSession[];
  createdAt: Date;
  updatedAt: Date;
}

/** A revoked session id, remembered until the last access token issued for it has expired. */
export interface RevokedSession {
  sessionId: string;
  until: Date;
}

export type UserDocument = HydratedDocument<UserFields>;
export type UserModel = Model<UserFields>;
export type UserId = Types.ObjectId;

const userSchema = new Schema<UserFields>(
  {
    // Unique on the normalised address: concurrent registrations of one email end in a
    // duplicate-key error for all but one, whatever the letter case they used.
    email: { type: String, required: true, unique: true },
    passwordHash: { type: String, required: true },
    name: { type: String, default: null },
    roles: { type: [String], enum: ROLES, default: () => ['USER'] },
    emailVerified: { type: Boolean, default: false },
    revokedSessions: {
      type: [
        new Schema<RevokedSession>(
          { sessionId: { type: String, required: true }, until: { type: Date, required: true } },
          { _id: false },
        ),
      ],
      default: () => [],
    },
  },
  {
    timestamps: true,
    // Never let a hash leave the process by accident, e.g. through a logged document.
    toJSON: {
      transform: (_doc, ret: Record<string, unknown>) => ({ ...ret, passwordHash: undefined }),
    },
  },
);

// Lets the scheduled purge find users with stale revocation entries without a collection scan.
userSchema.index({ 'revokedSessions.until': 1 });

/** Registers the User model on a connection (one connection per server instance). */
export function userModel(connection: Connection): UserModel {
  return connection.models.User ?? connection.model<UserFields>('User', userSchema);
}
