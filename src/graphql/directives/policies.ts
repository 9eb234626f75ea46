import type { GraphQLResolveInfo } from 'graphql';
import type { AccessClaims } from '../../tokens/accessTokens';
import { hasScope } from '../../tokens/scopes';
import type { GraphQLContext } from '../context';

declare module 'graphql' {
  interface GraphQLObjectTypeExtensions {
    /** The property of this type's resolved objects that holds its owner's user id (`self`). */
    authOwner?: string;
  }
}

/** What a policy sees: the caller, and the field being resolved with its parent object. */
export interface PolicyInput {
  /** The verified claims, or null for an anonymous caller or a rejected token. */
  readonly claims: AccessClaims | null;
  /** The object the field belongs to (the root value for root fields). */
  readonly parent: unknown;
  readonly args: Readonly<Record<string, unknown>>;
  readonly context: GraphQLContext;
  readonly info: GraphQLResolveInfo;
}

/**
 * A named check for `@auth(policies: …)`. Only `true` passes; anything else, a rejected promise or
 * a throw refuses the field (fail closed).
 */
export type Policy = (input: PolicyInput) => boolean | Promise<boolean>;

/** What code adds to the SDL's `@auth` (docs/authorization.md, "Policies" and "Owner rules"). */
export interface AuthorizationRules {
  /**
   * Type name → the property of its resolved objects that holds the owner's user id, for the
   * built-in `self` policy. `User` is built in (its `id`).
   */
  readonly owners?: Readonly<Record<string, string>>;
  /** Policy name → check. `self` is built in and cannot be replaced. */
  readonly policies?: Readonly<Record<string, Policy>>;
}

/** The owner rules every schema has. */
export const BUILT_IN_OWNERS: Readonly<Record<string, string>> = { User: 'id' };

/**
 * Built-in `self`: the parent object belongs to the caller, that is its owner property (declared
 * per type; `id` for `User`) equals the caller's `sub`. False for anonymous callers and for types
 * that declare no owner.
 */
export const self: Policy = ({ claims, parent, info }) => {
  const property = info.parentType.extensions.authOwner;
  if (!claims || !property || !parent || typeof parent !== 'object') return false;
  const owner = idOf((parent as Record<string, unknown>)[property]);
  return owner !== null && owner === claims.sub;
};

/** A user id as a string: the value itself, or the hex form of a MongoDB ObjectId reference. */
function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'toHexString' in value) {
    const hex: unknown = (value as { toHexString: () => unknown }).toHexString();
    return typeof hex === 'string' ? hex : null;
  }
  return null;
}

/** A policy that passes when the caller's token grants `scope` (hierarchy and wildcards apply). */
export function grantsScope(scope: string): Policy {
  return ({ claims }) => claims !== null && hasScope(claims.scopes, scope);
}

/**
 * Passes when any of `policies` passes, tried in order; a policy cannot be an OR of SDL names,
 * because every name in `@auth(policies: …)` must pass.
 */
export function anyOf(...policies: readonly Policy[]): Policy {
  return (input) => firstPassing(policies, 0, input);
}

// Stays synchronous as long as the policies are, so a cheap OR adds no promise per field.
function firstPassing(
  policies: readonly Policy[],
  from: number,
  input: PolicyInput,
): boolean | Promise<boolean> {
  for (let i = from; i < policies.length; i += 1) {
    const result = (policies[i] as Policy)(input);
    if (result instanceof Promise) {
      return result.then((passed) => passed === true || firstPassing(policies, i + 1, input));
    }
    if (result === true) return true;
  }
  return false;
}

/** The policies a schema can name: the built-in ones plus those `rules` registers. */
export function policyRegistry(rules: AuthorizationRules = {}): ReadonlyMap<string, Policy> {
  const registered = Object.entries(rules.policies ?? {});
  if (registered.some(([name]) => name === 'self')) {
    throw new Error('The policy name "self" is built in and cannot be registered again');
  }
  return new Map<string, Policy>([['self', self], ...registered]);
}

/** Every owner rule of a schema: the built-in ones plus those `rules` declares. */
export function ownerRules(rules: AuthorizationRules = {}): Readonly<Record<string, string>> {
  return { ...BUILT_IN_OWNERS, ...rules.owners };
}
