import { BODY_TRANSPORT, type RefreshTokenTransport } from '../../http/refreshTokenTransport';
import type { GraphQLContext } from '../context';

/**
 * The request's refresh-token transport: cookies or bodies as REFRESH_TOKEN_COOKIE says
 * (docs/sessions.md, "Cookie mode"); bodies where there is no HTTP request to carry cookies.
 */
export function refreshTokenTransport(context: GraphQLContext): RefreshTokenTransport {
  return context.refreshTokenTransport ?? BODY_TRANSPORT;
}
