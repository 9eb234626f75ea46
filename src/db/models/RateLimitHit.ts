import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One counted attempt against a throttle bucket (`login:<hash of the email>` or `ip:<address>`),
 * keyed `<bucket>#<n>` where n counts the bucket's hits (docs/data-model.md, "ratelimithits").
 * Inserting hit n is what counts it, so concurrent callers on any instance cannot both take the
 * same place. `expiresAt` only tells the scheduled purge what may go (FerretDB has no TTL indexes).
 */
export interface RateLimitHitFields {
  _id: string;
  bucket: string;
  at: Date;
  expiresAt: Date;
}

export type RateLimitHitModel = Model<RateLimitHitFields>;

const rateLimitHitSchema = new Schema<RateLimitHitFields>(
  {
    _id: { type: String, required: true },
    bucket: { type: String, required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);
// For the scheduled purge only.
rateLimitHitSchema.index({ expiresAt: 1 });

/** Registers the RateLimitHit model on a connection. */
export function rateLimitHitModel(connection: Connection): RateLimitHitModel {
  return (
    connection.models.RateLimitHit ??
    connection.model<RateLimitHitFields>('RateLimitHit', rateLimitHitSchema)
  );
}
