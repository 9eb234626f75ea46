import { requireClaims } from '../context';
import type { MutationResolvers, UserResolvers } from '../../generated/graphql';
import { refreshTokenTransport } from './refreshTokenTransport';

type RecoveryMutationName =
  'requestPasswordReset' | 'resetPassword' | 'requestEmailVerification' | 'verifyEmail';

/** The mutations of schema/recovery.graphql (docs/recovery.md). */
export const RecoveryMutation: Pick<MutationResolvers, RecoveryMutationName> = {
  requestPasswordReset: (_root, { email }, context) =>
    context.services.passwordReset.request(email, context.client),
  // A reset signs the user in: the new session's refresh token travels like any other.
  resetPassword: async (_root, { token, newPassword }, context) =>
    refreshTokenTransport(context).deliver(
      await context.services.passwordReset.reset(token, newPassword, context.client),
    ),
  requestEmailVerification: (_root, _args, context) =>
    context.services.emailVerification.request(requireClaims(context), context.client),
  verifyEmail: (_root, { token }, context) =>
    context.services.emailVerification.verify(token, context.client.request),
};

/** The fields schema/recovery.graphql adds to `User`. */
export const RecoveryUser: Pick<UserResolvers, 'emailVerified'> = {
  emailVerified: (user) => user.emailVerified === true,
};
