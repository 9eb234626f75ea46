import { print } from 'graphql';
import type { GraphQLResponse, Operation } from './testServer';

/** One `Set-Cookie` header, taken apart. Attribute names are lower-cased. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  readonly attributes: Readonly<Record<string, string | true>>;
}

export const REFRESH_COOKIE = '__Host-refresh_token';
export const CSRF_COOKIE = '__Host-csrf_token';

/** The `Set-Cookie` headers of a response. */
export function setCookies(headers: Headers): SetCookie[] {
  return headers.getSetCookie().map((line) => {
    const [pair = '', ...rest] = line.split(';');
    const separator = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const attribute of rest) {
      const [key = '', ...value] = attribute.trim().split('=');
      attributes[key.toLowerCase()] = value.length > 0 ? value.join('=') : true;
    }
    return {
      name: pair.slice(0, separator).trim(),
      value: decodeURIComponent(pair.slice(separator + 1).trim()),
      attributes,
    };
  });
}

/** The `Set-Cookie` of `name` in a response, or undefined. */
export function setCookie(headers: Headers, name: string): SetCookie | undefined {
  return setCookies(headers).find((cookie) => cookie.name === name);
}

/**
 * What a browser would keep of the API's cookies: set by responses, dropped on `Max-Age=0`, and
 * sent back as one `Cookie` header.
 */
export class CookieJar {
  readonly values = new Map<string, string>();

  store(headers: Headers): void {
    for (const cookie of setCookies(headers)) {
      if (cookie.attributes['max-age'] === '0' || cookie.value === '')
        this.values.delete(cookie.name);
      else this.values.set(cookie.name, cookie.value);
    }
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  header(): string {
    return [...this.values]
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
      .join('; ');
  }

  copy(): CookieJar {
    const jar = new CookieJar();
    for (const [name, value] of this.values) jar.values.set(name, value);
    return jar;
  }
}

export interface CookieRequestOptions {
  /** Cookies to send, and to update from the response unless `keep` is set. */
  readonly jar: CookieJar;
  /** The CSRF header: the jar's CSRF cookie by default, none when null. */
  readonly csrf?: string | null;
  readonly origin?: string;
  readonly token?: string;
  /** Leave the jar as it was (to replay the same cookies later). */
  readonly keep?: boolean;
}

/** POSTs an operation as a browser page in cookie mode would: cookies, CSRF header, Origin. */
export async function cookieGql<TData, TVariables>(
  baseUrl: string,
  operation: Operation<TData, TVariables>,
  variables: TVariables,
  options: CookieRequestOptions,
): Promise<GraphQLResponse<TData>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const cookie = options.jar.header();
  if (cookie !== '') headers.cookie = cookie;
  const csrf = options.csrf === undefined ? options.jar.get(CSRF_COOKIE) : options.csrf;
  if (csrf !== undefined && csrf !== null) headers['x-csrf-token'] = csrf;
  if (options.origin !== undefined) headers.origin = options.origin;
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      query: typeof operation === 'string' ? operation : print(operation),
      variables,
    }),
  });
  if (!options.keep) options.jar.store(response.headers);
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as GraphQLResponse<TData>['body'],
  };
}
