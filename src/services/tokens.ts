import { createSecretKey, randomUUID } from 'node:crypto';
import jwt, { type JwtHeader, type JwtPayload } from 'jsonwebtoken';
import type { JwtConfig } from '../config';
import { AuthenticationError } from '../errors';
import { ROLES, type RoleName } from '../models/User';

/** The `typ` header of our access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

// Real tokens are well under 1 KB; refusing huge ones early keeps garbage from costing CPU.
const MAX_TOKEN_LENGTH = 4096;

/** What a verified access token says about its bearer. */
export interface AccessClaims {
  /** User id. */
  readonly sub: string;
  readonly roles: readonly RoleName[];
  /** Session (refresh-token family) id. */
  readonly sid: string;
  /** True only when issued by register or login (a password was just checked). */
  readonly fresh: boolean;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
}

export interface AccessTokenInput {
  readonly userId: string;
  readonly roles: readonly RoleName[];
  readonly sessionId: string;
  readonly fresh: boolean;
}

export interface AccessTokens {
  /** Signs a new access token; `expiresIn` is its lifetime in seconds. */
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
  const { sub, roles, sid, fresh, jti, iat, exp } = payload as Record<string, unknown>;
  if (
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
  return { sub, roles, sid, fresh, jti, iat, exp };
}

/** Access tokens signed with the configured key; verification accepts that algorithm only. */
export function createAccessTokens(config: JwtConfig): AccessTokens {
  const algorithm = config.algorithm;
  // A KeyObject, built once: given a string, jsonwebtoken first tries to parse it as a PEM public
  // (or private) key on every call and only falls back to a secret after that throws, which cost
  // more CPU than the rest of a `me` request's authentication together.
  const key = createSecretKey(Buffer.from(config.secret, 'utf8'));
  return {
    sign(input) {
      const token = jwt.sign(
        { roles: input.roles, sid: input.sessionId, fresh: input.fresh },
        key,
        {
          algorithm,
          header: { alg: algorithm, typ: ACCESS_TOKEN_TYPE },
          subject: input.userId,
          issuer: config.issuer,
          audience: config.audience,
          expiresIn: config.accessTokenTtl,
          jwtid: randomUUID(),
        },
      );
      return { token, expiresIn: config.accessTokenTtl };
    },
    verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) throw new AuthenticationError('INVALID_TOKEN');
      try {
        const { header, payload } = jwt.verify(token, key, {
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
