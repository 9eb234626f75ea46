import { createHmac } from 'node:crypto';
import type { JwtConfig } from '../config';

/** Derives the secret of a refresh token's successor from the token it replaces. */
export type SuccessorSecret = (sessionId: string, generation: number, previous: string) => string;

// Separates this use of the key material from every other (signing access tokens).
const KEY_LABEL = 'graphql-jwt-auth refresh-token successor v1';

/**
 * The successor of a refresh token is HMAC(key, `<sessionId>.<generation>.<previous secret>`), so
 * every process that exchanges the same token computes the same successor, and a retry within the
 * grace window can be answered without keeping any secret in clear (docs/sessions.md, "Grace
 * window"). The key comes from the signing key material every instance already shares; without it
 * an old token alone never reveals its successor.
 */
export function createSuccessorSecret(jwt: JwtConfig): SuccessorSecret {
  const material = jwt.signingKey
    ? jwt.signingKey.privateKey.export({ format: 'der', type: 'pkcs8' })
    : Buffer.from(jwt.secret, 'utf8');
  const key = createHmac('sha256', material).update(KEY_LABEL).digest();
  return (sessionId, generation, previous) =>
    createHmac('sha256', key)
      .update(`${sessionId}.${generation}.${previous}`, 'utf8')
      .digest('base64url');
}
