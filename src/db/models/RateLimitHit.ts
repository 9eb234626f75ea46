import { Schema, type Connection, type HydratedDocument, type Model } from 'mongoose';

/**
 * One counted attempt against a throttle bucket (`login:<hash of the email>` or `ip:<address>`).
 * A bucket's count is the number of its hits younger than the window, so expiry is decided in the
 * query; `expiresAt` only tells the periodic purge what may go (FerretDB has no TTL indexes).
 */
export interface RateLimitHitFields {
  bucket: string;
  at: Date;
  expiresAt: Date;
}

export type RateLimitHitDocument = HydratedDocument<RateLimitHitFields>;
export type RateLimitHitModel = Model<RateLimitHitFields>;

const rateLimitHitSchema = new Schema<RateLimitHitFields>(
  {
    bucket: { type: String, required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true, index: true },
  },
  { versionKey: false },
);
rateLimitHitSchema.index({ bucket: 1, at: -1 });

/** Registers the RateLimitHit model on a connection. */
export function rateLimitHitModel(connection: Connection): RateLimitHitModel {
  return (
    connection.models.RateLimitHit ??
    connection.model<RateLimitHitFields>('RateLimitHit', rateLimitHitSchema)
  );
}
