import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config';
import type { GraphQLContext } from './context';
import { createErrorFormatter } from './errorFormatter';
import { authorizeBeforeExecutionPlugin } from './plugins/authorizeBeforeExecution';
import { errorLoggingPlugin } from './plugins/errorLogging';
import { operationNamePlugin } from './plugins/operationName';
import { createQueryLimits } from './plugins/queryLimits';
import { retryAfterHeaderPlugin } from './plugins/retryAfterHeader';
import { landingPagePlugin } from './sandbox';

export interface ApolloOptions {
  /**
   * Decide request-only guards before execution (docs/authorization.md); default true. Only the
   * benchmark turns it off, to measure what it costs; never a configuration setting.
   */
  readonly authorizeBeforeExecution?: boolean;
}

/**
 * Builds and starts Apollo Server for `schema`: document limits, the pre-execution authorization
 * check, error masking, error logging, Retry-After, the operation name in log lines, and the
 * Sandbox landing page where allowed.
 */
export async function createApollo(
  config: Config,
  app: FastifyInstance,
  schema: GraphQLSchema,
  options: ApolloOptions = {},
): Promise<ApolloServer<GraphQLContext>> {
  const limits = createQueryLimits(config.graphqlLimits);
  const formatError = createErrorFormatter({
    hideSuggestions: config.isProduction || !config.introspection,
  });
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    // Shutdown belongs to src/bin/server.ts; Apollo's own handler would re-raise the signal and
    // kill the process before in-flight requests finish.
    stopOnTerminationSignals: false,
    formatError,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    // Both are Apollo's defaults, stated because the protections depend on them: no JSON arrays of
    // operations, and no simple (CORS-safelisted) requests that a browser sends cross-site.
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    logger: app.log,
    plugins: [
      // Apollo installs its cache-control plugin unless told not to; it wraps every field's
      // resolver to collect cache hints, and this API answers per user and sets none.
      ApolloServerPluginCacheControlDisabled(),
      fastifyApolloDrainPlugin(app),
      ...(options.authorizeBeforeExecution === false
        ? []
        : [authorizeBeforeExecutionPlugin(formatError)]),
      operationNamePlugin(),
      errorLoggingPlugin(app.log),
      retryAfterHeaderPlugin(),
      landingPagePlugin(config.sandbox),
    ],
  });
  await apollo.start();
  return apollo;
}
