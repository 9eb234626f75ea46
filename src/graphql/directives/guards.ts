import type { GraphQLField, GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { getDirective } from '@graphql-tools/utils';
import type { RoleName } from '../../config';
import {
  AuthenticationError,
  ForbiddenError,
  InsufficientScopeError,
  type ClientError,
} from '../../errors';
import { satisfiesScopeSets } from '../../tokens/scopes';
import type { GraphQLContext, RequestAuth } from '../context';

/** The arguments of one `@auth` occurrence (schema/directives.graphql). */
export interface AuthRequirement {
  readonly requires?: readonly RoleName[] | null;
  readonly scopes?: readonly (readonly string[])[] | null;
  readonly policies?: readonly string[] | null;
  readonly fresh?: boolean | null;
}

/**
 * Every `@auth` occurrence that applies to one object field, ANDed: the object type's, its
 * interfaces', the field's and the interface fields' (docs/authorization.md, "Composition").
 */
export interface FieldGuard {
  /** `Type.field`, the key of the request's decisions. */
  readonly coordinate: string;
  readonly requirements: readonly AuthRequirement[];
  /**
   * Whether a signed-in caller is needed before anything else. Every occurrence asks for one,
   * except one that names policies and nothing else: those policies decide alone, also for
   * anonymous callers (how a sign-in mutation's own payload stays readable).
   */
  readonly needsToken: boolean;
  /** The policies of all occurrences, each once, in order; they run at resolve time. */
  readonly policies: readonly string[];
}

declare module 'graphql' {
  // Merging with graphql's interface needs its type parameters, used or not.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface GraphQLFieldExtensions<_TSource, _TContext, _TArgs> {
    /** Set by the `@auth` transformer on every guarded field; read by the pre-execution check. */
    authGuard?: FieldGuard;
  }
}

/** True for an occurrence that names policies and asks for nothing the request alone decides. */
export function isPolicyOnly(requirement: AuthRequirement): boolean {
  return (
    (requirement.policies?.length ?? 0) > 0 &&
    (requirement.requires?.length ?? 0) === 0 &&
    (requirement.scopes?.length ?? 0) === 0 &&
    !requirement.fresh
  );
}

function occurrences(
  schema: GraphQLSchema,
  node: GraphQLObjectType | GraphQLInterfaceType | GraphQLField<unknown, unknown>,
  directiveName: string,
): AuthRequirement[] {
  return (getDirective(schema, node, directiveName) ?? []) as AuthRequirement[];
}

/** The guard of `type.fieldName`, or null when no `@auth` applies to it. */
export function fieldGuard(
  schema: GraphQLSchema,
  type: GraphQLObjectType,
  fieldName: string,
  directiveName = 'auth',
): FieldGuard | null {
  const interfaces = type.getInterfaces();
  const requirements = [
    ...occurrences(schema, type, directiveName),
    ...interfaces.flatMap((iface) => occurrences(schema, iface, directiveName)),
    ...occurrences(schema, type.getFields()[fieldName]!, directiveName),
    ...interfaces.flatMap((iface) => {
      const field = iface.getFields()[fieldName];
      return field ? occurrences(schema, field, directiveName) : [];
    }),
  ];
  if (requirements.length === 0) return null;
  return {
    coordinate: `${type.name}.${fieldName}`,
    requirements,
    needsToken: requirements.some((requirement) => !isPolicyOnly(requirement)),
    policies: [...new Set(requirements.flatMap((requirement) => requirement.policies ?? []))],
  };
}

/** The error for a caller without usable credentials. */
export function unauthenticated(auth: RequestAuth): AuthenticationError {
  return new AuthenticationError(auth.status === 'rejected' ? auth.reason : 'MISSING_TOKEN');
}

/**
 * Decides the parts of a guard that depend on the request alone (signed in, roles, scopes,
 * fresh), in the order the occurrences apply; null when they pass. Policies are not looked at.
 */
export function decideRequest(auth: RequestAuth, guard: FieldGuard): ClientError | null {
  if (auth.status !== 'authenticated') return guard.needsToken ? unauthenticated(auth) : null;
  const { claims } = auth;
  for (const requirement of guard.requirements) {
    const roles = requirement.requires ?? [];
    if (roles.length > 0 && !roles.some((role) => claims.roles.includes(role))) {
      return new ForbiddenError('MISSING_ROLE');
    }
    const scopeSets = requirement.scopes ?? [];
    if (!satisfiesScopeSets(claims.scopes, scopeSets)) return new InsufficientScopeError(scopeSets);
    if (requirement.fresh && !claims.fresh) return new ForbiddenError('FRESH_TOKEN_REQUIRED');
  }
  return null;
}

// One request's decisions by coordinate: made by the pre-execution check, or by the first
// resolver that needs one when the check did not run (graphql's own subscribe(), tests).
const decisions = new WeakMap<GraphQLContext, Map<string, ClientError | null>>();

/** {@link decideRequest}, decided once per request and coordinate. */
export function requestDecision(context: GraphQLContext, guard: FieldGuard): ClientError | null {
  let byCoordinate = decisions.get(context);
  if (!byCoordinate) {
    byCoordinate = new Map();
    decisions.set(context, byCoordinate);
  }
  let decision = byCoordinate.get(guard.coordinate);
  if (decision === undefined) {
    decision = decideRequest(context.auth, guard);
    byCoordinate.set(guard.coordinate, decision);
  }
  return decision;
}
