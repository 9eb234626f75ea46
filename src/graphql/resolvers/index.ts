import type { Resolvers } from '../../generated/graphql';
import { DateTime } from './DateTime';
import { Mutation } from './Mutation';
import { Query } from './Query';
import { RecoveryMutation, RecoveryUser } from './recovery';
import { Subscription } from './Subscription';
import { User } from './User';

/** The resolver map of the API. */
export const resolvers: Resolvers = {
  DateTime,
  Query,
  Mutation: { ...Mutation, ...RecoveryMutation },
  Subscription,
  User: { ...User, ...RecoveryUser },
};
