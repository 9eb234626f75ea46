import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt, { type JwtHeader, type JwtPayload } from 'jsonwebtoken';
import type { JwtConfig } from '../config';
import { AuthenticationError } from '../errors';
import { ROLES, type RoleName } from '../db/models/User';
import { parseScopeClaim, scopesForRoles } from './scopes';

/** The `typ` header of our access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

// Real tokens are well under 1 KB; refusing huge ones early keeps garbage from costing CPU.
const MAX_TOKEN_LENGTH = 4096;
// JWS compact serialisation with a non-empty signature (RFC 7515 §7.1). Anything else (the JSON
// serialisation, unsigned tokens, stray characters, extra segments) is refused before parsing.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** What a verified access token says about its bearer. */
export interface AccessClaims {
  /** User id. */
  readonly sub: string;
  readonly roles: readonly RoleName[];
  /** Session (refresh-token family) id. */
  readonly sid: string;
  /** True only when issued by register or login (a password was just checked). */
  readonly fresh: boolean;
  /**
   * The granted scopes, from the RFC 9068 `scope` claim; empty for tokens issued before scopes
   * existed, which keep working for guards that ask only for roles.
   */
  readonly scopes: readonly string[];
  /** The RFC 9068 `client_id` claim; null for tokens issued before it was written. */
  readonly clientId: string | null;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
}

export interface AccessTokenInput {
  readonly userId: string;
  readonly roles: readonly RoleName[];
  readonly sessionId: string;
  readonly fresh: boolean;
  /**
   * The session's absolute end (SESSION_MAX_AGE after its sign-in): `exp` never passes it, so no
   * access token outlives its session (docs/sessions.md, "Access token"). Every flow passes it;
   * only tools that sign a token for a session of their making (the benchmark) leave it out.
   */
  readonly sessionExpiresAt?: Date;
}

export interface AccessTokens {
  /**
   * Signs a new access token; `expiresIn` is its lifetime in seconds: ACCESS_TOKEN_TTL, or less
   * when the session ends sooner.
   */
  sign(input: AccessTokenInput): { token: string; expiresIn: number };
  /** Verifies a bearer token; throws AuthenticationError INVALID_TOKEN or TOKEN_EXPIRED. */
  verify(token: string): AccessClaims;
}

function isRoleList(value: unknown): value is RoleName[] {
  return Array.isArray(value) && value.every((role) => ROLES.includes(role as RoleName));
}

function toClaims(header: JwtHeader, payload: JwtPayload | string): AccessClaims {
  // RFC 8725 §3.11: the explicit type keeps other JWTs (ID tokens, foreign tokens) out.
  if (header.typ !== ACCESS_TOKEN_TYPE || typeof payload !== 'object') {
    throw new AuthenticationError('INVALID_TOKEN');
  }
  const { sub, roles, sid, fresh, jti, iat, exp, scope, client_id } = payload as Record<
    string,
    unknown
  >;
  if (
    (scope !== undefined && typeof scope !== 'string') ||
    (client_id !== undefined && typeof client_id !== 'string') ||
    typeof sub !== 'string' ||
    typeof sid !== 'string' ||
    typeof jti !== 'string' ||
    typeof fresh !== 'boolean' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    !isRoleList(roles)
  ) {
    throw new AuthenticationError('INVALID_TOKEN');
  }
  return {
    sub,
    roles,
    sid,
    fresh,
    scopes: scope === undefined ? [] : parseScopeClaim(scope),
    clientId: client_id ?? null,
    jti,
    iat,
    exp,
  };
}

/** The `kid` of a compact JWS, read without trusting anything else in the header. */
function headerKid(token: string): string | undefined {
  try {
    const header: unknown = JSON.parse(
      Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'),
    );
    const kid = header && typeof header === 'object' ? (header as { kid?: unknown }).kid : null;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Access tokens signed with the configured key; verification accepts that algorithm only. With
 * RS256/ES256 the verification key is looked up by `kid` among our own keys; a token without a
 * known `kid` is invalid, and keys or key URLs in the token header (jwk, jku, x5u, x5c) are never
 * used.
 */
export function createAccessTokens(config: JwtConfig): AccessTokens {
  const algorithm = config.algorithm;
  // A KeyObject made once; jsonwebtoken would otherwise re-derive it from the string every call.
  const hmacKey =
    algorithm === 'HS256' ? createSecretKey(Buffer.from(config.secret, 'utf8')) : undefined;
  const signingKey = config.signingKey?.privateKey ?? hmacKey;
  if (!signingKey) throw new Error(`${algorithm} needs a signing key`);
  const kid = config.signingKey?.kid;
  const publicKeys = new Map(config.verificationKeys.map((key) => [key.kid, key.publicKey]));
  const verificationKey = (token: string): KeyObject => {
    if (hmacKey) return hmacKey;
    const tokenKid = headerKid(token);
    const found = tokenKid === undefined ? undefined : publicKeys.get(tokenKid);
    if (!found) throw new AuthenticationError('INVALID_TOKEN');
    return found;
  };
  return {
    sign(input) {
      const scopes = scopesForRoles(config.roleScopes, input.roles);
      const iat = Math.floor(Date.now() / 1000);
      // Whole seconds, rounded down: the token ends at the latest when its session does.
      const sessionEnd = input.sessionExpiresAt
        ? Math.floor(input.sessionExpiresAt.getTime() / 1000)
        : Infinity;
      const exp = Math.max(iat, Math.min(iat + config.accessTokenTtl, sessionEnd));
      const token = jwt.sign(
        {
          iat,
          exp,
          roles: input.roles,
          sid: input.sessionId,
          fresh: input.fresh,
          // RFC 9068 §2.2.3: space-separated; left out when the roles grant no scope at all.
          ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
          client_id: config.clientId,
        },
        signingKey,
        {
          algorithm,
          header: kid
            ? { alg: algorithm, typ: ACCESS_TOKEN_TYPE, kid }
            : { alg: algorithm, typ: ACCESS_TOKEN_TYPE },
          subject: input.userId,
          issuer: config.issuer,
          audience: config.audience,
          jwtid: randomUUID(),
        },
      );
      return { token, expiresIn: exp - iat };
    },
    verify(token) {
      if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
        throw new AuthenticationError('INVALID_TOKEN');
      }
      try {
        const { header, payload } = jwt.verify(token, verificationKey(token), {
          algorithms: [algorithm],
          issuer: config.issuer,
          audience: config.audience,
          clockTolerance: config.clockToleranceSeconds,
          complete: true,
        });
        return toClaims(header, payload);
      } catch (error) {
        if (error instanceof AuthenticationError) throw error;
        if (error instanceof jwt.TokenExpiredError) throw new AuthenticationError('TOKEN_EXPIRED');
        throw new AuthenticationError('INVALID_TOKEN');
      }
    },
  };
}
