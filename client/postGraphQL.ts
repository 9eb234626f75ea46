import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Kind, print, type DocumentNode } from 'graphql';
import { AuthClientError, type GraphQLErrorEntry } from './authClientError';

/** The subset of `fetch` the client needs; any WHATWG-compatible implementation fits. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** How a request carries the refresh token: not at all (bodies), or in the API's cookies. */
export interface CookieCredentials {
  /** Headers to add, such as the CSRF token (docs/frontend.md, "Cookie mode"). */
  readonly headers: () => Record<string, string>;
}

interface PrintedDocument {
  readonly query: string;
  readonly operationName: string | undefined;
}

// Generated documents are plain AST objects that live as long as the page; print each once.
const printed = new WeakMap<DocumentNode, PrintedDocument>();

function printDocument(document: DocumentNode): PrintedDocument {
  let result = printed.get(document);
  if (!result) {
    const operation = document.definitions.find(
      (definition) => definition.kind === Kind.OPERATION_DEFINITION,
    );
    result = { query: print(document), operationName: operation?.name?.value };
    printed.set(document, result);
  }
  return result;
}

/**
 * Sends one operation as a JSON POST and returns its `data`. Any GraphQL error, a response that is
 * not GraphQL, or a network failure rejects with an {@link AuthClientError}.
 */
export async function postGraphQL<TResult, TVariables>(
  fetchFn: FetchLike,
  url: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables | undefined,
  accessToken?: string,
  cookies?: CookieCredentials,
): Promise<TResult> {
  const { query, operationName } = printDocument(document);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    ...cookies?.headers(),
  };
  if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`;

  let response: Response;
  try {
    response = await fetchFn(url, {
      method: 'POST',
      headers,
      // In body mode tokens travel in the header only: no cookies, so no ambient credentials to
      // forge. In cookie mode the browser must send the refresh cookie, and store new ones, also
      // across origins; the CSRF header goes with it.
      credentials: cookies ? 'include' : 'omit',
      body: JSON.stringify({ query, variables, operationName }),
    });
  } catch (cause) {
    throw new AuthClientError('The API could not be reached', { code: 'NETWORK_ERROR', cause });
  }

  let body: { data?: TResult | null; errors?: GraphQLErrorEntry[] };
  try {
    body = (await response.json()) as typeof body;
  } catch (cause) {
    throw new AuthClientError(`The API answered HTTP ${response.status} without GraphQL`, {
      code: 'BAD_RESPONSE',
      status: response.status,
      cause,
    });
  }
  if (body.errors && body.errors.length > 0) {
    throw AuthClientError.fromResponse(body.errors, response.status);
  }
  if (body.data === undefined || body.data === null) {
    throw new AuthClientError('The API answered without data', {
      code: 'BAD_RESPONSE',
      status: response.status,
    });
  }
  return body.data;
}
