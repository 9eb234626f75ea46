import { randomBytes } from 'node:crypto';
import {
  KeyMaterialError,
  parsePrivateKey,
  parsePublicKeys,
  verificationKeySet,
  type AsymmetricAlgorithm,
  type SigningKey,
  type VerificationKey,
} from './keys';
import { ConfigError, invalid, readChoice, readDuration, readText, type Env } from './readers';
import { readRoleScopes, type RoleScopes } from './scopes';

/** Signing algorithms on the allowlist; exactly one is active per deployment. */
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface JwtConfig {
  /** JWT_ALGORITHM, default HS256. The only algorithm verification accepts. */
  readonly algorithm: JwtAlgorithm;
  /**
   * JWT_SECRET: HMAC key for HS256. Required in production (at least 32 bytes); random per start
   * otherwise. Empty, and never used, with RS256 or ES256.
   */
  readonly secret: string;
  /** True when JWT_SECRET was not set and a random development secret was generated. */
  readonly secretIsEphemeral: boolean;
  /**
   * JWT_PRIVATE_KEY (RS256/ES256 only): PEM text or a file path. New tokens are signed with it and
   * carry its RFC 7638 thumbprint as `kid`. Undefined with HS256.
   */
  readonly signingKey: SigningKey | undefined;
  /**
   * Keys verification accepts, chosen by `kid`: the signing key's public half, then JWT_PUBLIC_KEYS
   * (concatenated PEM public keys or comma-separated file paths). Published as the JWKS. Empty with
   * HS256.
   */
  readonly verificationKeys: readonly VerificationKey[];
  /** JWT_ISSUER, default `graphql-jwt-auth`: the `iss` claim written and required. */
  readonly issuer: string;
  /** JWT_AUDIENCE, default `graphql-jwt-auth`: the `aud` claim written and required. */
  readonly audience: string;
  /**
   * JWT_CLIENT_ID, default `graphql-jwt-auth`: the RFC 9068 `client_id` claim of every access token
   * (this API issues tokens to its own first-party clients only).
   */
  readonly clientId: string;
  /**
   * ROLE_SCOPES, default `ADMIN=users:*`: the scopes each role grants, written into the RFC 9068
   * `scope` claim (docs/authorization.md, "Scopes").
   */
  readonly roleScopes: RoleScopes;
  /** ACCESS_TOKEN_TTL, default 15m: access token lifetime in seconds. */
  readonly accessTokenTtl: number;
  /** Clock skew tolerated when checking `exp` and `nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
}

// Values copied from tutorials and .env samples; a production deployment using one is as good as
// unsigned.
const PLACEHOLDER_SECRETS = new Set([
  'secret',
  'changeme',
  'change-me',
  'your-secret-key',
  'your_jwt_secret',
  'supersecret',
  'jwt_secret',
  'replace-me-with-at-least-32-random-bytes',
]);

/** Runs a key parser and reports its complaint under the variable's name. */
function readKeyVariable<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof KeyMaterialError) throw new ConfigError(variable, error.message);
    throw error;
  }
}

// Keys are parsed here, once, so a bad key stops the start instead of failing requests.
function readKeyPairConfig(
  env: Env,
  algorithm: AsymmetricAlgorithm,
): Pick<JwtConfig, 'signingKey' | 'verificationKeys'> {
  const privateValue = env.JWT_PRIVATE_KEY?.trim();
  if (!privateValue) {
    throw new ConfigError(
      'JWT_PRIVATE_KEY',
      `is required with ${algorithm} (PEM text or a file path; npm run cli -- keygen --alg ${algorithm})`,
    );
  }
  const signingKey = readKeyVariable('JWT_PRIVATE_KEY', () =>
    parsePrivateKey(privateValue, algorithm),
  );
  const publicValue = env.JWT_PUBLIC_KEYS?.trim();
  const extras = publicValue
    ? readKeyVariable('JWT_PUBLIC_KEYS', () => parsePublicKeys(publicValue, algorithm))
    : [];
  return { signingKey, verificationKeys: verificationKeySet(signingKey, extras) };
}

export function readJwtConfig(env: Env, isProduction: boolean): JwtConfig {
  const algorithm = readChoice(env, 'JWT_ALGORITHM', JWT_ALGORITHMS, 'HS256');
  const common = {
    algorithm,
    issuer: readText(env, 'JWT_ISSUER', 'graphql-jwt-auth'),
    audience: readText(env, 'JWT_AUDIENCE', 'graphql-jwt-auth'),
    clientId: readText(env, 'JWT_CLIENT_ID', 'graphql-jwt-auth'),
    roleScopes: readRoleScopes(env),
    accessTokenTtl: readDuration(env, 'ACCESS_TOKEN_TTL', '15m'),
    clockToleranceSeconds: 5,
  };
  if (algorithm !== 'HS256') {
    const { signingKey, verificationKeys } = readKeyPairConfig(env, algorithm);
    return { ...common, secret: '', secretIsEphemeral: false, signingKey, verificationKeys };
  }
  for (const variable of ['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEYS']) {
    if (env[variable]?.trim()) {
      invalid(variable, 'is set, but JWT_ALGORITHM is HS256; use RS256 or ES256', undefined);
    }
  }
  const rawSecret = env.JWT_SECRET;
  let secret: string;
  let secretIsEphemeral = false;
  if (rawSecret === undefined || rawSecret === '') {
    if (isProduction) {
      invalid('JWT_SECRET', 'is required in production (at least 32 bytes)', '');
    }
    // Development only: tokens die with the process, which is the safe failure mode.
    secret = randomBytes(48).toString('base64url');
    secretIsEphemeral = true;
  } else {
    secret = rawSecret;
    // In every environment: a weak secret set on purpose in development tends to travel to
    // production with the rest of the file (docs/keys.md).
    if (PLACEHOLDER_SECRETS.has(secret.trim().toLowerCase())) {
      invalid(
        'JWT_SECRET',
        'is a well-known placeholder; generate a random secret: openssl rand -base64 48',
        '',
      );
    } else if (Buffer.byteLength(secret, 'utf8') < 32) {
      invalid(
        'JWT_SECRET',
        'must be at least 32 bytes; generate one with: openssl rand -base64 48',
        '',
      );
    }
  }
  return { ...common, secret, secretIsEphemeral, signingKey: undefined, verificationKeys: [] };
}
