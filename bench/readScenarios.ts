import type { BenchContext } from './benchContext';
import { failures, runLoad } from './loadTest';
import { combineRuns, median, type Measured } from './measured';
import type { ServerProcess } from './serverProcess';

export type ReadServer = 'guarded' | 'noPrecheck' | 'unguarded' | 'ceiling' | 'ceilingNoLookup';

/** One server answering the read, and how to ask it. */
export interface ReadTarget {
  readonly key: ReadServer;
  readonly server: ServerProcess;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ReadResults {
  /** Medians over the rounds. */
  readonly servers: Readonly<Record<ReadServer, Measured>>;
  /** Per round, guarded req/s ÷ unguarded req/s. */
  readonly authOverhead: readonly number[];
  /** Per round, guarded req/s ÷ the same API without the pre-execution check. */
  readonly precheckCost: readonly number[];
  /** Per round, guarded req/s ÷ ceiling req/s. */
  readonly ofCeiling: readonly number[];
  /** Per round, unguarded ÷ guarded server CPU per read. */
  readonly cpuCrossCheck: readonly number[];
}

/**
 * Scenarios 1–3: the same read, closed loop, against the API, the unguarded variant and the bare
 * ceiling. Every round runs each server once, in an order rotated from round to round, and the
 * ratios are taken within a round: servers measured seconds apart share the machine's state,
 * which on a shared machine drifts more than the differences being measured.
 */
export async function runReadScenarios(
  context: BenchContext,
  targets: readonly ReadTarget[],
): Promise<ReadResults> {
  const { profile } = context;
  const load = (target: ReadTarget, seconds: number) => () =>
    runLoad({
      url: `${target.server.url}${target.path}`,
      connections: profile.readConnections,
      durationSeconds: seconds,
      body: context.read.body,
      headers: target.headers,
      expectBody: context.read.expectBody,
    });

  if (profile.warmupSeconds > 0) {
    context.log('warming up');
    for (const target of targets) await load(target, profile.warmupSeconds)();
  }
  const runs = new Map<ReadServer, Measured[]>(targets.map((target) => [target.key, []]));
  const authOverhead: number[] = [];
  const precheckCost: number[] = [];
  const ofCeiling: number[] = [];
  const cpuCrossCheck: number[] = [];
  for (let round = 0; round < profile.rounds; round += 1) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length] as ReadTarget);
    const thisRound = new Map<ReadServer, Measured>();
    for (const target of order) {
      const measured = await context.measure(target.server, load(target, profile.readSeconds));
      context.fail(failures(measured.result), `read (${target.key})`);
      thisRound.set(target.key, measured);
      runs.get(target.key)?.push(measured);
    }
    const guarded = thisRound.get('guarded');
    const unguarded = thisRound.get('unguarded');
    const ceiling = thisRound.get('ceiling');
    const noPrecheck = thisRound.get('noPrecheck');
    if (guarded && noPrecheck) {
      precheckCost.push(guarded.result.perSecond / noPrecheck.result.perSecond);
    }
    if (guarded && unguarded && ceiling) {
      authOverhead.push(guarded.result.perSecond / unguarded.result.perSecond);
      ofCeiling.push(guarded.result.perSecond / ceiling.result.perSecond);
      cpuCrossCheck.push(unguarded.serverCpuMs / guarded.serverCpuMs);
      context.log(
        `reads, round ${round + 1}: guarded ${Math.round(guarded.result.perSecond)}/s, unguarded ${Math.round(unguarded.result.perSecond)}/s, ceiling ${Math.round(ceiling.result.perSecond)}/s`,
      );
    }
  }
  const combined = (key: ReadServer): Measured => combineRuns(runs.get(key) ?? []);
  context.log(
    `reads: guarded ÷ unguarded ${median(authOverhead).toFixed(2)}, guarded ÷ without pre-execution check ${median(precheckCost).toFixed(2)}, guarded ÷ ceiling ${median(ofCeiling).toFixed(2)} (medians of rounds)`,
  );
  return {
    servers: {
      guarded: combined('guarded'),
      noPrecheck: combined('noPrecheck'),
      unguarded: combined('unguarded'),
      ceiling: combined('ceiling'),
      ceilingNoLookup: combined('ceilingNoLookup'),
    },
    authOverhead,
    precheckCost,
    ofCeiling,
    cpuCrossCheck,
  };
}
