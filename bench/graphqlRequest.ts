/** The raw answer of one GraphQL request. */
export interface RawResponse {
  readonly status: number;
  readonly text: string;
}

/** Posts one GraphQL operation; `token` becomes a bearer header. */
export async function postGraphQL(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
): Promise<RawResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, text: await response.text() };
}

/** Posts one operation and returns `data`, throwing with the server's errors on failure. */
export async function graphQLData<TData>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<TData> {
  const { status, text } = await postGraphQL(url, query, variables);
  const body = JSON.parse(text) as { data?: TData | null; errors?: unknown };
  if (status !== 200 || !body.data || body.errors) {
    throw new Error(`GraphQL request failed (HTTP ${status}): ${text.slice(0, 500)}`);
  }
  return body.data;
}
