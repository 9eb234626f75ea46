import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { GraphQLError, type ValidationRule } from 'graphql';
import type { GraphQLLimitsConfig } from '../../config';

/** What ApolloServer needs to refuse oversized documents before executing them. */
export interface QueryLimits {
  readonly validationRules: ValidationRule[];
  /** Passed to graphql's `parse`: the token limit aborts parsing itself (400 GRAPHQL_PARSE_FAILED). */
  readonly parseOptions: { readonly maxTokens: number };
}

// Report through the validation context, so Apollo answers 400 GRAPHQL_VALIDATION_FAILED, and
// without graphql-armor's misleading "Syntax Error:" prefix.
const report: GraphQLArmorRejectCallback = (context, error) => {
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')));
};

/**
 * Depth, alias, directive and cost limits from graphql-armor as validation rules, plus the parser's
 * token limit. Introspection's `__schema` is exempt from depth and cost (the standard introspection
 * query nests 15 levels deep); graphql-js's own MaxIntrospectionDepthRule bounds it instead.
 */
export function createQueryLimits(limits: GraphQLLimitsConfig): QueryLimits {
  const rejection = { propagateOnRejection: false, onReject: [report] };
  const armor = new ApolloArmor({
    maxDepth: {
      n: limits.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: true,
      ...rejection,
    },
    maxAliases: { n: limits.maxAliases, ...rejection },
    maxDirectives: { n: limits.maxDirectives, ...rejection },
    costLimit: {
      maxCost: limits.maxCost,
      flattenFragments: true,
      ignoreIntrospection: true,
      ...rejection,
    },
    // The parser's own limit below answers with a parse error instead of a 500.
    maxTokens: { enabled: false },
    // Suggestions are hidden by the error formatter, which also covers enum and argument hints.
    blockFieldSuggestion: { enabled: false },
  });
  const { validationRules } = armor.protect();
  return { validationRules, parseOptions: { maxTokens: limits.maxTokens } };
}
