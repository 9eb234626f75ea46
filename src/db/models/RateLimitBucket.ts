import { Schema, type Connection, type Model } from 'mongoose';

/**
 * Where a throttle bucket's count stands, keyed by the bucket (docs/data-model.md,
 * "ratelimitbuckets"). Only a hint: `next` says where to try inserting the next hit (a stale value
 * costs one more insert attempt, never a wrong count), `resetAt` makes earlier hits not count.
 * Both only ever grow (`$max`), so updates in any order end in the same state.
 */
export interface RateLimitBucketFields {
  _id: string;
  next: number;
  resetAt: Date | null;
  expiresAt: Date;
}

export type RateLimitBucketModel = Model<RateLimitBucketFields>;

const rateLimitBucketSchema = new Schema<RateLimitBucketFields>(
  {
    _id: { type: String, required: true },
    next: { type: Number, default: 0 },
    resetAt: { type: Date, default: null },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);
// For the scheduled purge only.
rateLimitBucketSchema.index({ expiresAt: 1 });

/** Registers the RateLimitBucket model on a connection. */
export function rateLimitBucketModel(connection: Connection): RateLimitBucketModel {
  return (
    connection.models.RateLimitBucket ??
    connection.model<RateLimitBucketFields>('RateLimitBucket', rateLimitBucketSchema)
  );
}
