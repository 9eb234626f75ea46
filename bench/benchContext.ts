import type { LoadResult } from './loadTest';
import type { Measured } from './measured';
import type { ServerProcess } from './serverProcess';

/** How long each part of a run takes. */
export interface BenchProfile {
  readonly warmupSeconds: number;
  /** Read rounds: every server once per round, in rotating order. */
  readonly rounds: number;
  readonly readSeconds: number;
  readonly readConnections: number;
  /** Each bcrypt timing window (at least three hashes whatever this says). */
  readonly hashSeconds: number;
  /** Login windows, each between two bcrypt timing windows. */
  readonly loginWindows: number;
  readonly loginSeconds: number;
  readonly pacedPerSecond: number;
  readonly pacedSeconds: number;
  /** Idle and loaded paced-read windows, alternating. */
  readonly pacedWindows: number;
  readonly refreshSeconds: number;
  /** Subscribed WebSockets held open at once (scenario 7), and sign-ins delivered to them all. */
  readonly subscriptionSockets: number;
  readonly subscriptionEvents: number;
  /** Concurrent logins of one address in the hash flood (scenario 8), and another's logins during it. */
  readonly floodLogins: number;
  readonly floodBystanderLogins: number;
  /** The whole run is stopped (and fails) past this. */
  readonly deadlineSeconds: number;
}

/** The measuring run: about two minutes of load plus start-up. */
export const FULL: BenchProfile = {
  // V8 keeps optimising the API's request path for about 15 s of load (docs/performance.md,
  // "The read path"); a shorter warm-up measures the JIT, and the API, with the most code to
  // optimise, more than the servers it is compared with.
  warmupSeconds: 15,
  rounds: 4,
  readSeconds: 4,
  readConnections: 10,
  hashSeconds: 1.5,
  loginWindows: 2,
  loginSeconds: 5,
  pacedPerSecond: 100,
  pacedSeconds: 5,
  pacedWindows: 2,
  refreshSeconds: 6,
  subscriptionSockets: 1000,
  subscriptionEvents: 5,
  floodLogins: 200,
  floodBystanderLogins: 5,
  deadlineSeconds: 300,
};

/** Every scenario for about a second: proves the benchmark still works, measures nothing. */
export const SMOKE: BenchProfile = {
  warmupSeconds: 0,
  rounds: 1,
  readSeconds: 1,
  readConnections: 4,
  hashSeconds: 0,
  loginWindows: 1,
  loginSeconds: 1,
  pacedPerSecond: 20,
  pacedSeconds: 1,
  pacedWindows: 1,
  refreshSeconds: 1,
  subscriptionSockets: 50,
  subscriptionEvents: 1,
  floodLogins: 50,
  floodBystanderLogins: 1,
  deadlineSeconds: 150,
};

/** What every scenario gets: the running API, a signed-in user and the run's bookkeeping. */
export interface BenchContext {
  readonly profile: BenchProfile;
  readonly bcryptCost: number;
  readonly cores: number;
  readonly api: ServerProcess;
  readonly graphqlUrl: string;
  /** The account the login and refresh scenarios sign in to (not the one `token` belongs to). */
  readonly credentials: { readonly email: string; readonly password: string };
  /** A valid access token of the bench user. */
  readonly token: string;
  /** The JSON body of a read request, and the exact body every server must answer it with. */
  readonly read: { readonly body: string; readonly expectBody: string };
  /** Runs `load` against `server`, charging the CPU its process and the database spent to it. */
  measure(server: ServerProcess, load: () => Promise<LoadResult>): Promise<Measured>;
  /** Records failed requests (a broken benchmark, whatever the numbers). */
  fail(count: number, what: string): void;
  log(message: string): void;
}
