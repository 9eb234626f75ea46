import type { GraphQLResolveInfo } from 'graphql';
import {
  anyOf,
  grantsScope,
  self,
  type AuthorizationRules,
  type Policy,
} from './directives/policies';

// The user of an AuthPayload is the one its mutation has just signed in (register, login,
// refreshToken, changePassword): whoever sent it holds that user's tokens now, even though the
// request itself came without one.
function isSignedInByThisPayload(info: GraphQLResolveInfo): boolean {
  return info.path.prev?.typename === 'AuthPayload';
}

const signedInByThisPayload: Policy = ({ info }) => isSignedInByThisPayload(info);

/**
 * The API's own policies and owner rules (docs/authorization.md, "The API's own rules"); `User`'s
 * owner is built in.
 */
export const apiAuthorizationRules: AuthorizationRules = {
  policies: {
    /** `User.email`: the user themself, or a caller who may read users. */
    selfOrUsersRead: anyOf(self, signedInByThisPayload, grantsScope('users:read')),
  },
};
