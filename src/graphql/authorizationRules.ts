import { Kind, OperationTypeNode, type GraphQLResolveInfo } from 'graphql';
import { emailVerifiedPolicy } from '../recovery/emailVerifiedPolicy';
import {
  anyOf,
  grantsScope,
  self,
  type AuthorizationRules,
  type Policy,
} from './directives/policies';

// Root mutations whose user is the one the request itself proved to be, with a mailed token
// rather than an access token (docs/recovery.md).
const PROVEN_BY_MAILED_TOKEN = new Set(['verifyEmail']);

/** The name of the root field `responseKey` (an alias or the name itself) of the operation. */
function rootFieldName(info: GraphQLResolveInfo, responseKey: string | number): string | undefined {
  for (const selection of info.operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    if ((selection.alias ?? selection.name).value === responseKey) return selection.name.value;
  }
  return undefined;
}

// The user of an AuthPayload is the one its mutation has just signed in (register, login,
// refreshToken, changePassword): whoever sent it holds that user's tokens now, even though the
// request itself came without one. Likewise the user verifyEmail returns: the request carried the
// token mailed to that address.
function isProvenByThisRequest(info: GraphQLResolveInfo): boolean {
  const parent = info.path.prev;
  if (parent?.typename === 'AuthPayload') return true;
  return (
    info.operation.operation === OperationTypeNode.MUTATION &&
    parent !== undefined &&
    parent.prev === undefined &&
    PROVEN_BY_MAILED_TOKEN.has(rootFieldName(info, parent.key) ?? '')
  );
}

const signedInByThisPayload: Policy = ({ info }) => isProvenByThisRequest(info);

/**
 * The API's own policies and owner rules (docs/authorization.md, "The API's own rules"); `User`'s
 * owner is built in.
 */
export const apiAuthorizationRules: AuthorizationRules = {
  policies: {
    /** `User.email`: the user themself, or a caller who may read users. */
    selfOrUsersRead: anyOf(self, signedInByThisPayload, grantsScope('users:read')),
    /**
     * The caller's address is verified (docs/recovery.md, "Requiring a verified address"). Read
     * from the account, not the token, so it holds the moment the link is followed.
     */
    emailVerified: async ({ claims, context }) =>
      claims !== null && emailVerifiedPolicy(await context.services.users.current(claims)),
  },
};
