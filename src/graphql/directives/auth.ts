import {
  defaultFieldResolver,
  GraphQLObjectType,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { PolicyDeniedError } from '../../errors';
import type { GraphQLContext } from '../context';
import { fieldGuard, requestDecision, unauthenticated, type FieldGuard } from './guards';
import {
  ownerRules,
  policyRegistry,
  type AuthorizationRules,
  type Policy,
  type PolicyInput,
} from './policies';

type Resolver = GraphQLFieldResolver<unknown, GraphQLContext, Record<string, unknown>>;

// Runs `next` after `check`, synchronously when the check was: most guards have no policy, and
// a promise per guarded field would cost every read.
function after<T>(check: void | Promise<void>, next: () => T): T | Promise<T> {
  return check instanceof Promise ? check.then(next) : next();
}

/** Runs a guard's policies in order; the first that does not pass refuses the field. */
function runPolicies(
  guard: FieldGuard,
  policies: ReadonlyMap<string, Policy>,
  input: PolicyInput,
  from = 0,
): void | Promise<void> {
  for (let i = from; i < guard.policies.length; i += 1) {
    const name = guard.policies[i] as string;
    const policy = policies.get(name);
    const result = policy ? policy(input) : false;
    if (result instanceof Promise) {
      return result.then((passed) => {
        if (passed !== true) throw denial(input, name);
        return runPolicies(guard, policies, input, i + 1);
      });
    }
    if (result !== true) throw denial(input, name);
  }
}

// An anonymous caller refused by a policy is told to sign in; a signed-in one is told which
// policy refused.
function denial({ context }: PolicyInput, policy: string): Error {
  return context.auth.status === 'authenticated'
    ? new PolicyDeniedError(policy)
    : unauthenticated(context.auth);
}

function guardedResolver(
  guard: FieldGuard,
  policies: ReadonlyMap<string, Policy>,
  resolve: Resolver,
): Resolver {
  return (parent, args, context, info) => {
    const refused = requestDecision(context, guard);
    if (refused) throw refused;
    if (guard.policies.length === 0) return resolve(parent, args, context, info);
    const claims = context.auth.status === 'authenticated' ? context.auth.claims : null;
    const input: PolicyInput = { claims, parent, args, context, info };
    return after(runPolicies(guard, policies, input), () => resolve(parent, args, context, info));
  };
}

/**
 * Applies `@auth` to a schema (docs/authorization.md): every object field that an occurrence
 * applies to (on the field, its type, an interface of the type or the interface's field) checks
 * the request, then its policies, before its resolver runs; subscription fields also before
 * `subscribe`. The guard is kept in the field's `extensions.authGuard` for the pre-execution
 * check, and owner rules in the type's `extensions.authOwner` for `self`. Apply it last: fields
 * added afterwards would not be guarded.
 */
export function authDirectiveTransformer(
  schema: GraphQLSchema,
  rules: AuthorizationRules = {},
  directiveName = 'auth',
): GraphQLSchema {
  const policies = policyRegistry(rules);
  const owners = ownerRules(rules);
  const subscriptionType = schema.getSubscriptionType()?.name;
  return mapSchema(schema, {
    [MapperKind.OBJECT_TYPE]: (type) => {
      const owner = owners[type.name];
      if (!owner) return type;
      const config = type.toConfig();
      return new GraphQLObjectType({
        ...config,
        extensions: { ...config.extensions, authOwner: owner },
      });
    },
    [MapperKind.OBJECT_FIELD]: (
      fieldConfig: GraphQLFieldConfig<unknown, GraphQLContext>,
      fieldName: string,
      typeName: string,
    ) => {
      const type = schema.getType(typeName);
      if (!(type instanceof GraphQLObjectType)) return fieldConfig;
      const guard = fieldGuard(schema, type, fieldName, directiveName);
      if (!guard) return fieldConfig;
      const guarded: GraphQLFieldConfig<unknown, GraphQLContext> = {
        ...fieldConfig,
        extensions: { ...fieldConfig.extensions, authGuard: guard },
        resolve: guardedResolver(guard, policies, fieldConfig.resolve ?? defaultFieldResolver),
      };
      // A subscription is refused when it is set up, not only when each event is resolved.
      if (typeName === subscriptionType) {
        guarded.subscribe = guardedResolver(
          guard,
          policies,
          fieldConfig.subscribe ?? defaultFieldResolver,
        );
      }
      return guarded;
    },
  });
}
