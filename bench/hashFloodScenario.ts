import { performance } from 'node:perf_hooks';
import type { BenchContext } from './benchContext';
import { median } from './measured';

const LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }';

// Documentation addresses (RFC 5737), told to the API through X-Forwarded-For: the bench runs it
// with TRUST_PROXY=1, and every request comes from loopback.
const FLOODER = '203.0.113.66';
const BYSTANDER = '198.51.100.77';

export interface HashFloodResults {
  /** Concurrent logins with unknown emails sent from one address. */
  readonly flood: number;
  /** Of those, refused at once with RATE_LIMITED (the address's share was taken). */
  readonly refused: number;
  /** Of those, hashed and answered INVALID_CREDENTIALS. */
  readonly answered: number;
  /** Until the last answer of the flood, in ms. */
  readonly floodMs: number;
  /** A login of another address with the pool idle, in ms (median). */
  readonly idleMs: number;
  /** Logins of another address while the flood's hashes were queued, in ms. */
  readonly duringMs: readonly number[];
  readonly failures: number;
}

interface Answer {
  readonly ok: boolean;
  readonly code: string | undefined;
}

async function login(
  context: BenchContext,
  from: string,
  input: { email: string; password: string },
): Promise<Answer> {
  const response = await fetch(context.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({ query: LOGIN, variables: { input } }),
  });
  const body = (await response.json()) as {
    data?: { login?: { accessToken?: string } } | null;
    errors?: Array<{ extensions?: { code?: string } }>;
  };
  return {
    ok: typeof body.data?.login?.accessToken === 'string',
    code: body.errors?.[0]?.extensions?.code,
  };
}

async function timedLogin(context: BenchContext): Promise<{ ms: number; ok: boolean }> {
  const startedAt = performance.now();
  const answer = await login(context, BYSTANDER, context.credentials);
  return { ms: performance.now() - startedAt, ok: answer.ok };
}

/**
 * Scenario 8: one address floods `login` with concurrent requests for unknown emails, each costing
 * a hash, while another address signs in one login after the other. The pool refuses the flood
 * past the address's share at once and hands every free thread to the address with the fewest
 * hashes running (docs/security.md, "Password hashing under load"), so the other address's
 * logins should take about one hash longer than with the pool idle, not the flood's seconds.
 */
export async function runHashFloodScenario(
  context: BenchContext,
  flood: number,
  bystanderLogins: number,
): Promise<HashFloodResults> {
  let failures = 0;
  const idle: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const { ms, ok } = await timedLogin(context);
    idle.push(ms);
    if (!ok) failures += 1;
  }

  const startedAt = performance.now();
  let pending = flood;
  const answers = Array.from({ length: flood }, (_unused, i) =>
    login(context, FLOODER, {
      email: `flood-${i}-${Date.now()}@example.com`,
      password: 'not the password',
    }).finally(() => {
      pending -= 1;
    }),
  );
  // Once what is refused at once has been refused: the flood's admitted share is then hashing.
  while (pending > flood / 2 && performance.now() - startedAt < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const during: number[] = [];
  for (let i = 0; i < bystanderLogins && pending > 0; i += 1) {
    const { ms, ok } = await timedLogin(context);
    during.push(ms);
    if (!ok) failures += 1;
  }
  const settled = await Promise.all(answers);
  const floodMs = performance.now() - startedAt;
  const refused = settled.filter((answer) => answer.code === 'RATE_LIMITED').length;
  const answered = settled.filter((answer) => answer.code === 'UNAUTHENTICATED').length;
  // Anything else (a crash, an internal error, a login that worked) means the benchmark is broken.
  failures += flood - refused - answered;
  if (during.length === 0) {
    context.log('hash flood: the flood was over before the other address could sign in');
    failures += 1;
  }
  context.fail(failures, 'hash flood');
  context.log(
    `hash flood: ${refused} of ${flood} refused at once; another address signed in in ${during
      .map((ms) => Math.round(ms))
      .join(', ')} ms (idle ${Math.round(median(idle))} ms)`,
  );
  return {
    flood,
    refused,
    answered,
    floodMs,
    idleMs: median(idle),
    duringMs: during,
    failures,
  };
}
