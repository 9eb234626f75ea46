import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { FastifyBaseLogger } from 'fastify';
import type { GraphQLContext } from '../context';
import { ClientError, isRequestError } from '../../errors';

/**
 * Logs every error the client sees only as INTERNAL_SERVER_ERROR, with the request id, so a
 * report can be matched with its cause. Our own client errors and request-shape errors (parse,
 * validation, variable coercion) are the client's business and are not logged.
 */
export function errorLoggingPlugin(logger: FastifyBaseLogger): ApolloServerPlugin<GraphQLContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didEncounterErrors({ contextValue, errors }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (original instanceof ClientError || isRequestError(error)) continue;
            logger.error(
              { reqId: contextValue.requestId, err: original, path: error.path },
              'unexpected error while resolving',
            );
          }
          return Promise.resolve();
        },
      });
    },
  };
}
