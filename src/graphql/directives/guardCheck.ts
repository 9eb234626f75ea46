import { isInterfaceType, isObjectType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { getDirective } from '@graphql-tools/utils';
import { isScope } from '../../config';
import type { AuthRequirement } from './guards';
import { ownerRules, policyRegistry, type AuthorizationRules } from './policies';

/** Thrown at start-up when a root field is neither guarded nor explicitly public. */
export class UnguardedFieldsError extends Error {
  constructor(readonly fields: readonly string[]) {
    super(
      `Every root field needs exactly one of @auth or @public (secure by default). Offending fields: ${fields.join(', ')}`,
    );
    this.name = 'UnguardedFieldsError';
  }
}

/**
 * Fails closed: every Query, Mutation and Subscription field must carry `@auth` (on the field or
 * its root type) or `@public`, and never both.
 */
export function assertRootFieldsGuarded(schema: GraphQLSchema): void {
  const roots = [
    schema.getQueryType(),
    schema.getMutationType(),
    schema.getSubscriptionType(),
  ].filter((type): type is GraphQLObjectType => Boolean(type));
  const offenders: string[] = [];
  for (const root of roots) {
    const rootGuarded = (getDirective(schema, root, 'auth') ?? []).length > 0;
    for (const field of Object.values(root.getFields())) {
      const guarded = rootGuarded || (getDirective(schema, field, 'auth') ?? []).length > 0;
      const open = (getDirective(schema, field, 'public') ?? []).length > 0;
      if (guarded === open) offenders.push(`${root.name}.${field.name}`);
    }
  }
  if (offenders.length > 0) throw new UnguardedFieldsError(offenders);
}

/** Thrown at start-up when `@auth` names policies that no code registers. */
export class UnknownPoliciesError extends Error {
  constructor(readonly policies: readonly string[]) {
    super(
      `@auth names policies that no code registers (see docs/authorization.md, "Registering a policy"): ${policies.join(', ')}`,
    );
    this.name = 'UnknownPoliciesError';
  }
}

/** Thrown at start-up when an `@auth` occurrence cannot mean anything (a bad scope, `self` without an owner). */
export class InvalidGuardsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid @auth guards: ${problems.join('; ')}`);
    this.name = 'InvalidGuardsError';
  }
}

interface Occurrence {
  /** Where it is written: `Type` or `Type.field`. */
  readonly at: string;
  /** The object types whose fields it guards. */
  readonly appliesTo: readonly GraphQLObjectType[];
  readonly requirement: AuthRequirement;
}

function allOccurrences(schema: GraphQLSchema): Occurrence[] {
  const found: Occurrence[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    const appliesTo = isObjectType(type) ? [type] : schema.getPossibleTypes(type);
    for (const requirement of (getDirective(schema, type, 'auth') ?? []) as AuthRequirement[]) {
      found.push({ at: type.name, appliesTo, requirement });
    }
    for (const field of Object.values(type.getFields())) {
      for (const requirement of (getDirective(schema, field, 'auth') ?? []) as AuthRequirement[]) {
        found.push({ at: `${type.name}.${field.name}`, appliesTo, requirement });
      }
    }
  }
  return found;
}

/**
 * Fails closed on guards nobody could satisfy as written: every policy an `@auth` names must be
 * registered (all unknown names are listed at once), every scope must be well-formed, and `self`
 * may only guard types that declare an owner (docs/authorization.md).
 */
export function assertGuardsResolvable(
  schema: GraphQLSchema,
  rules: AuthorizationRules = {},
): void {
  const registered = policyRegistry(rules);
  const owners = ownerRules(rules);
  const occurrences = allOccurrences(schema);
  const unknown = new Set<string>();
  const problems: string[] = [];
  for (const { at, appliesTo, requirement } of occurrences) {
    for (const policy of requirement.policies ?? []) {
      if (!registered.has(policy)) unknown.add(policy);
    }
    for (const scope of (requirement.scopes ?? []).flat()) {
      if (!isScope(scope)) problems.push(`${at} asks for the malformed scope "${scope}"`);
    }
    if (requirement.policies?.includes('self')) {
      const ownerless = appliesTo.filter((type) => !owners[type.name]).map((type) => type.name);
      if (ownerless.length > 0) {
        problems.push(`${at} uses "self", but no owner is declared for ${ownerless.join(', ')}`);
      }
    }
  }
  if (unknown.size > 0) throw new UnknownPoliciesError([...unknown].sort());
  if (problems.length > 0) throw new InvalidGuardsError(problems);
}
