import { ApolloServer } from '@apollo/server';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config';
import type { GraphQLContext } from './context';
import { createErrorFormatter } from './errorFormatter';
import { errorLoggingPlugin } from './plugins/errorLogging';
import { operationNamePlugin } from './plugins/operationName';
import { createQueryLimits } from './plugins/queryLimits';
import { retryAfterHeaderPlugin } from './plugins/retryAfterHeader';
import { landingPagePlugin } from './sandbox';

/**
 * Builds and starts Apollo Server for `schema`: document limits, error masking, error logging,
 * Retry-After, the operation name in log lines, and the Sandbox landing page where allowed.
 */
export async function createApollo(
  config: Config,
  app: FastifyInstance,
  schema: GraphQLSchema,
): Promise<ApolloServer<GraphQLContext>> {
  const limits = createQueryLimits(config.graphqlLimits);
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    // Shutdown belongs to src/bin/server.ts; Apollo's own handler would re-raise the signal and
    // kill the process before in-flight requests finish.
    stopOnTerminationSignals: false,
    formatError: createErrorFormatter({
      hideSuggestions: config.isProduction || !config.introspection,
    }),
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    // Both are Apollo's defaults, stated because the protections depend on them: no JSON arrays of
    // operations, and no simple (CORS-safelisted) requests that a browser sends cross-site.
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    logger: app.log,
    plugins: [
      fastifyApolloDrainPlugin(app),
      operationNamePlugin(),
      errorLoggingPlugin(app.log),
      retryAfterHeaderPlugin(),
      landingPagePlugin(config.sandbox),
    ],
  });
  await apollo.start();
  return apollo;
}
