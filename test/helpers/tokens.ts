import { createHmac, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';
import { TEST_JWT_SECRET } from './testServer';

/** A key pair with its PEM forms, for configuring a server or forging tokens. */
export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
}

function withPem(pair: { privateKey: KeyObject; publicKey: KeyObject }): TestKeyPair {
  return {
    ...pair,
    privatePem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** An EC key pair; P-256 by default (ES256). */
export function ecKeyPair(namedCurve: 'P-256' | 'P-384' = 'P-256'): TestKeyPair {
  return withPem(generateKeyPairSync('ec', { namedCurve }));
}

/** An RSA key pair; 2048 bits by default (the smallest RS256 accepts). */
export function rsaKeyPair(modulusLength = 2048): TestKeyPair {
  return withPem(generateKeyPairSync('rsa', { modulusLength }));
}

/** Produces the signature bytes of a JWS signing input. */
export type Signer = (signingInput: string) => Buffer;

export function hmacSigner(hash: 'sha256' | 'sha384' | 'sha512', secret: string): Signer {
  return (input) => createHmac(hash, secret).update(input).digest();
}

export function rsaSigner(
  hash: 'sha256' | 'sha384' | 'sha512',
  key: KeyObject,
  pss = false,
): Signer {
  return (input) =>
    sign(hash, Buffer.from(input), pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING } : key);
}

export function ecdsaSigner(hash: 'sha256' | 'sha384' | 'sha512', key: KeyObject): Signer {
  // JWS carries ECDSA signatures as r || s (RFC 7518 §3.4), not DER.
  return (input) => sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
}

export function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A compact JWS with exactly the header, payload and signer given: no library checks in the way. */
export function forgeJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signer: Signer | null,
): string {
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  return `${signingInput}.${signer ? signer(signingInput).toString('base64url') : ''}`;
}

/** The decoded header of a compact JWS. */
export function jwsHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** The claims of a valid access token from the test server (HS256, TEST_JWT_SECRET), overridable. */
export function accessTokenClaims(
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: '000000000000000000000001',
    roles: ['USER'],
    sid: 'session-id',
    fresh: false,
    jti: 'jti-1',
    iss: 'graphql-jwt-auth',
    aud: 'graphql-jwt-auth',
    iat: now,
    exp: now + 60,
    ...overrides,
  };
}

/**
 * The one way tests forge an access token: the given claims (see accessTokenClaims), signed with
 * HS256 and the test secret unless `secret` or `header` say otherwise. A claim set to undefined is
 * left out.
 */
export function forgeAccessToken(
  claims: Record<string, unknown>,
  options: { header?: Record<string, unknown>; secret?: string } = {},
): string {
  const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  return forgeJws(
    { alg: 'HS256', typ: 'at+jwt', ...options.header },
    payload,
    hmacSigner('sha256', options.secret ?? TEST_JWT_SECRET),
  );
}
