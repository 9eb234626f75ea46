import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * Email → user, keyed by the normalised address (docs/data-model.md, "useremails"). Inserting it is
 * what claims an address: of concurrent registrations with one address only one insert succeeds,
 * on every MongoDB topology and on FerretDB, without a secondary unique index.
 */
export interface UserEmailFields {
  _id: string;
  userId: Types.ObjectId;
  createdAt: Date;
}

export type UserEmailModel = Model<UserEmailFields>;

const userEmailSchema = new Schema<UserEmailFields>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/** Registers the UserEmail model on a connection. */
export function userEmailModel(connection: Connection): UserEmailModel {
  return (
    connection.models.UserEmail ?? connection.model<UserEmailFields>('UserEmail', userEmailSchema)
  );
}
