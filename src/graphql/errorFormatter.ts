import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { ClientError, InternalError, isRequestError } from '../errors';

// graphql-js hints such as `Did you mean "email"?` reveal schema names that introspection hides.
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

export interface ErrorFormatterOptions {
  /** Strip "Did you mean …?" hints from request errors (production, or introspection off). */
  readonly hideSuggestions: boolean;
}

/**
 * Returns our own errors as they are and masks everything else (docs/api.md, "Errors"). Masked
 * errors are logged with their request id by the error-logging plugin.
 */
export function createErrorFormatter(options: ErrorFormatterOptions) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof ClientError) {
      return {
        message: formatted.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: original.extensions,
      };
    }
    if (isRequestError(error)) {
      const extensions = { ...formatted.extensions };
      delete extensions.stacktrace;
      const message = options.hideSuggestions
        ? formatted.message.replace(SUGGESTION, '')
        : formatted.message;
      return { ...formatted, message, extensions };
    }
    const masked = new InternalError();
    return {
      message: masked.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: masked.extensions,
    };
  };
}
