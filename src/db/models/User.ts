import { Schema, type Connection, type HydratedDocument, type Model, type Types } from 'mongoose';
import { ROLES, type RoleName } from '../../config';

// The role list is a choice list of the configuration, which checks the role→scope map against it.
export { ROLES, type RoleName };

/**
 * One live session as the user document lists it (docs/data-model.md, "users"). The session
 * document keyed by the same id holds the rest; this entry is what lets `sessions`, `logoutAll`
 * and the check of every guarded read find a user's sessions without a query on another field.
 */
export interface SessionEntry {
  createdAt: Date;
  /** Absolute end of the session (SESSION_MAX_AGE after the sign-in). */
  expiresAt: Date;
}

/**
 * A user as stored. `email` is always the normalised (trimmed, lower-case) address; the document
 * keyed by that address in `useremails` is what makes it unique and findable.
 */
export interface UserFields {
  email: string;
  passwordHash: string;
  name: string | null;
  roles: RoleName[];
  /** Whether the owner of `email` followed a verification link (docs/recovery.md). */
  emailVerified: boolean;
  /** Live sessions by id, at most MAX_SESSIONS_PER_USER (src/sessions/refreshTokens.ts). */
  sessions: Map<string, SessionEntry>;
  createdAt: Date;
  updatedAt: Date;
}

export type UserDocument = HydratedDocument<UserFields>;
export type UserModel = Model<UserFields>;
export type UserId = Types.ObjectId;

const sessionEntrySchema = new Schema<SessionEntry>(
  { createdAt: { type: Date, required: true }, expiresAt: { type: Date, required: true } },
  { _id: false },
);

// No secondary index: every hot-path read is by `_id` (docs/data-model.md). A unique email index
// would also rule out sharding the collection on `_id`; `useremails` keeps addresses unique.
const userSchema = new Schema<UserFields>(
  {
    email: { type: String, required: true },
    passwordHash: { type: String, required: true },
    name: { type: String, default: null },
    roles: { type: [String], enum: ROLES, default: () => ['USER'] },
    emailVerified: { type: Boolean, default: false },
    sessions: { type: Map, of: sessionEntrySchema, default: () => new Map() },
  },
  {
    timestamps: true,
    // Never let a hash leave the process by accident, e.g. through a logged document.
    toJSON: {
      transform: (_doc, ret: Record<string, unknown>) => ({ ...ret, passwordHash: undefined }),
    },
  },
);

/** Registers the User model on a connection (one connection per server instance). */
export function userModel(connection: Connection): UserModel {
  return connection.models.User ?? connection.model<UserFields>('User', userSchema);
}
