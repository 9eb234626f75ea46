import WebSocket from 'ws';
import type { BenchContext } from './benchContext';
import { graphQLData } from './graphqlRequest';
import { median } from './measured';

const SUBSCRIBE = 'subscription { securityEvents { type at } }';
const LOGIN = 'mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }';

/** What scenario 7 found: memory per idle socket and how fast an event reaches them all. */
export interface SubscriptionResults {
  readonly sockets: number;
  /** Server RSS growth per open, subscribed, idle socket. */
  readonly rssBytesPerSocket: number;
  /** Server heap growth per socket (JavaScript objects only). */
  readonly heapBytesPerSocket: number;
  readonly events: number;
  /** Delivery latency over every socket and event: from the event's `at` to its arrival. */
  readonly latency: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Per event, the time until the last of the sockets had it (median over events). */
  readonly allDeliveredMs: number;
  readonly failures: number;
}

interface Subscriber {
  readonly ws: WebSocket;
  readonly ready: Promise<void>;
  /** Arrival minus `at`, per event received, in ms. */
  readonly latencies: number[];
}

function subscriber(url: string, token: string): Subscriber {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const latencies: number[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`socket closed ${code}`)));
    ws.once('open', () => {
      ws.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
      );
    });
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as {
        type: string;
        payload?: { data?: { securityEvents?: { at: string } } };
      };
      if (message.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIBE } }));
        // The pong to a ping sent after subscribe: the subscription is live.
        ws.send(JSON.stringify({ type: 'ping' }));
      } else if (message.type === 'pong') resolve();
      else if (message.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
      else if (message.type === 'next') {
        const at = message.payload?.data?.securityEvents?.at;
        if (at) latencies.push(Date.now() - Date.parse(at));
      }
    });
  });
  ready.catch(() => undefined);
  return { ws, ready, latencies };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Scenario 7: `sockets` WebSockets of the bench user, each subscribed to `securityEvents`. Memory
 * per idle socket is the server's growth from before the first to after the last, settled; the
 * latency is from each event's `at` (stamped by the server when it publishes) to its arrival at
 * each socket, for `events` sign-ins, each of which reaches every socket.
 */
export async function runSubscriptionScenario(
  context: BenchContext,
  sockets: number,
  events: number,
): Promise<SubscriptionResults> {
  const { api } = context;
  const url = `${api.url.replace(/^http/, 'ws')}/graphql`;
  await api.settle();
  const before = await api.collectedStats();
  // A session of its own: earlier scenarios sign the bench user in many times, and a user keeps
  // a bounded number of live sessions, so the shared token's session may be gone by now.
  const { login } = await graphQLData<{ login: { accessToken: string } }>(
    context.graphqlUrl,
    LOGIN,
    { input: context.credentials },
  );
  const subscribers: Subscriber[] = [];
  let failures = 0;
  // In batches, as clients arrive in practice, without a thundering herd of handshakes.
  for (let i = 0; i < sockets; i += 100) {
    const batch = Array.from({ length: Math.min(100, sockets - i) }, () =>
      subscriber(url, login.accessToken),
    );
    subscribers.push(...batch);
    const settled = await Promise.allSettled(batch.map((one) => one.ready));
    failures += settled.filter((result) => result.status === 'rejected').length;
  }
  await api.settle();
  const after = await api.collectedStats();
  api.assertAlive();

  const perEvent: number[] = [];
  for (let event = 0; event < events; event += 1) {
    const counts = subscribers.map((one) => one.latencies.length);
    await graphQLData(context.graphqlUrl, LOGIN, { input: context.credentials });
    const deadline = Date.now() + 10_000;
    while (subscribers.some((one, i) => one.latencies.length === counts[i])) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const latest = subscribers
      .filter((one, i) => one.latencies.length > counts[i]!)
      .map((one) => one.latencies.at(-1)!);
    failures += subscribers.length - latest.length;
    perEvent.push(Math.max(...latest));
  }

  for (const one of subscribers) one.ws.close(1000);
  const all = subscribers.flatMap((one) => one.latencies).sort((a, b) => a - b);
  const results: SubscriptionResults = {
    sockets,
    rssBytesPerSocket: (after.rssBytes - before.rssBytes) / sockets,
    heapBytesPerSocket: (after.heapUsedBytes - before.heapUsedBytes) / sockets,
    events,
    latency: { p50: percentile(all, 50), p99: percentile(all, 99), max: all.at(-1) ?? NaN },
    allDeliveredMs: median(perEvent),
    failures,
  };
  context.fail(failures, 'subscriptions');
  context.log(
    `subscriptions: ${sockets} sockets, ${(results.rssBytesPerSocket / 1024).toFixed(1)} KiB RSS each, delivery p99 ${results.latency.p99} ms`,
  );
  return results;
}
