import { GraphQLScalarType, Kind } from 'graphql';
import { UserInputError } from '../../errors';

function parse(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new UserInputError(
      'INVALID_ARGUMENT',
      'DateTime',
      'DateTime must be an ISO 8601 string.',
    );
  }
  return date;
}

/** ISO 8601 timestamps in UTC, backed by `Date`. */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : parse(value);
    return date.toISOString();
  },
  parseValue: parse,
  parseLiteral(ast) {
    return parse(ast.kind === Kind.STRING ? ast.value : undefined);
  },
});
