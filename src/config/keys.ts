import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The asymmetric signing algorithms; HS256 needs no key pair. */
export const ASYMMETRIC_ALGORITHMS = ['ES256', 'RS256'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** A public key as published in the JWKS (RFC 7517): public parameters only. */
export interface PublicJwk {
  readonly kty: 'RSA' | 'EC';
  readonly kid: string;
  readonly alg: AsymmetricAlgorithm;
  readonly use: 'sig';
  readonly n?: string;
  readonly e?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
}

/** A public key tokens may be verified with, named by its `kid`. */
export interface VerificationKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
  readonly jwk: PublicJwk;
}

/** The key new tokens are signed with, plus its public half. */
export interface SigningKey extends VerificationKey {
  readonly privateKey: KeyObject;
}

/**
 * A key that cannot be used. The message completes a sentence that starts with the variable's
 * name, so the configuration loader can report it as is.
 */
export class KeyMaterialError extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = 'KeyMaterialError';
  }
}

const MIN_RSA_BITS = 2048;
/** What each algorithm needs, as node:crypto names it. */
const KEY_REQUIREMENTS: Readonly<
  Record<AsymmetricAlgorithm, { type: 'rsa' | 'ec'; curve?: string; describe: string }>
> = {
  RS256: { type: 'rsa', describe: `an RSA key of at least ${MIN_RSA_BITS} bits` },
  ES256: { type: 'ec', curve: 'prime256v1', describe: 'an EC key on the P-256 curve' },
};

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

interface PemBlock {
  readonly label: string;
  readonly text: string;
}

function pemBlocks(text: string): PemBlock[] {
  // Environment files often carry PEM on one line with literal "\n" escapes.
  const normalised = text.includes('\n') ? text : text.replace(/\\n/g, '\n');
  return [...normalised.matchAll(PEM_BLOCK)].map((match) => ({
    label: match[1] ?? '',
    text: match[0],
  }));
}

function looksLikePem(value: string): boolean {
  return value.includes('-----BEGIN ');
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new KeyMaterialError(`names a key file that cannot be read: ${path} (${code})`);
  }
}

const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return `an RSA key of ${details?.modulusLength ?? '?'} bits`;
  if (key.asymmetricKeyType === 'ec') {
    const curve = details?.namedCurve ?? 'an unknown curve';
    return `an EC key on ${CURVE_NAMES[curve] ?? curve}`;
  }
  return `a ${key.asymmetricKeyType ?? 'non-asymmetric'} key`;
}

// Wrong type, wrong curve, or RSA under 2048 bits: refused at start-up, never at request time.
function assertKeyFits(key: KeyObject, algorithm: AsymmetricAlgorithm): void {
  const need = KEY_REQUIREMENTS[algorithm];
  const details = key.asymmetricKeyDetails;
  const fits =
    key.asymmetricKeyType === need.type &&
    (need.curve === undefined || details?.namedCurve === need.curve) &&
    (need.type !== 'rsa' || (details?.modulusLength ?? 0) >= MIN_RSA_BITS);
  if (!fits) {
    throw new KeyMaterialError(
      `holds ${describeKey(key)}, but ${algorithm} needs ${need.describe}`,
    );
  }
}

/** RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order, base64url. */
export function jwkThumbprint(jwk: {
  kty?: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}): string {
  let canonical: string;
  if (jwk.kty === 'RSA') {
    canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  } else if (jwk.kty === 'EC') {
    canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  } else {
    throw new KeyMaterialError(`holds a key of type ${jwk.kty ?? 'unknown'}; use RSA or EC`);
  }
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The JWKS entry of a public key; its `kid` is the key's thumbprint. */
export function publicJwk(publicKey: KeyObject, algorithm: AsymmetricAlgorithm): PublicJwk {
  const exported = publicKey.export({ format: 'jwk' });
  const kid = jwkThumbprint(exported);
  if (exported.kty === 'RSA') {
    return { kty: 'RSA', kid, alg: algorithm, use: 'sig', n: exported.n, e: exported.e };
  }
  return {
    kty: 'EC',
    kid,
    alg: algorithm,
    use: 'sig',
    crv: exported.crv,
    x: exported.x,
    y: exported.y,
  };
}

function verificationKey(publicKey: KeyObject, algorithm: AsymmetricAlgorithm): VerificationKey {
  assertKeyFits(publicKey, algorithm);
  const jwk = publicJwk(publicKey, algorithm);
  return { kid: jwk.kid, publicKey, jwk };
}

/**
 * Parses JWT_PRIVATE_KEY: PEM text, or the path of a PEM file. Other PEM blocks beside the one
 * private key (such as the public key `keygen` prints after it) are ignored.
 */
export function parsePrivateKey(value: string, algorithm: AsymmetricAlgorithm): SigningKey {
  const text = looksLikePem(value) ? value : readKeyFile(value.trim());
  const privateBlocks = pemBlocks(text).filter((block) => block.label.includes('PRIVATE KEY'));
  if (privateBlocks.length !== 1) {
    throw new KeyMaterialError(
      privateBlocks.length === 0
        ? 'must be a PEM private key (BEGIN PRIVATE KEY) or the path of a file holding one'
        : 'must hold exactly one PEM private key',
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateBlocks[0]!.text);
  } catch {
    throw new KeyMaterialError(
      'is not a readable PEM private key (encrypted keys are not supported)',
    );
  }
  const publicKey = createPublicKey(privateKey);
  return { ...verificationKey(publicKey, algorithm), privateKey };
}

/**
 * Parses JWT_PUBLIC_KEYS: concatenated PEM public keys, or a comma-separated (or one-per-line) list
 * of paths of PEM files, each of which may hold several keys.
 */
export function parsePublicKeys(value: string, algorithm: AsymmetricAlgorithm): VerificationKey[] {
  const texts = looksLikePem(value)
    ? [value]
    : value
        .split(/[,\n]/)
        .map((path) => path.trim())
        .filter((path) => path !== '')
        .map(readKeyFile);
  const blocks = texts.flatMap(pemBlocks);
  if (blocks.some((block) => block.label.includes('PRIVATE'))) {
    throw new KeyMaterialError('holds a private key; list public keys (BEGIN PUBLIC KEY) only');
  }
  if (blocks.length === 0) {
    throw new KeyMaterialError(
      'must be PEM public keys (BEGIN PUBLIC KEY) or a comma-separated list of PEM file paths',
    );
  }
  return blocks.map((block) => {
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(block.text);
    } catch {
      throw new KeyMaterialError('holds a PEM block that is not a readable public key');
    }
    return verificationKey(publicKey, algorithm);
  });
}

/**
 * The keys verification accepts: the signing key's public half first, then the extra public keys
 * (the previous key during a rotation). Listing the current key among the extras is harmless.
 */
export function verificationKeySet(
  signing: VerificationKey,
  extras: readonly VerificationKey[],
): VerificationKey[] {
  const keys: VerificationKey[] = [];
  for (const { kid, publicKey, jwk } of [signing, ...extras]) {
    if (!keys.some((known) => known.kid === kid)) keys.push({ kid, publicKey, jwk });
  }
  return keys;
}

/** A new key pair for an operator, as PEM (PKCS#8 private key, SPKI public key). */
export function generateSigningKeyPair(
  algorithm: AsymmetricAlgorithm,
  rsaBits = 3072,
): { privateKeyPem: string; publicKeyPem: string; kid: string } {
  const pair =
    algorithm === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: rsaBits })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assertKeyFits(pair.publicKey, algorithm);
  return {
    privateKeyPem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    kid: publicJwk(pair.publicKey, algorithm).kid,
  };
}
