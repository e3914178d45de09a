/**
 * bench/rebalance: on 200 random unbalanced clusters (6-20 hosts, each
 * filled to its own level between 5% and 90% of memory), the spread of
 * memory use (standard deviation across hosts, percentage points) before
 * and after Vigil's rebalance plan, and the number of moves, against a
 * simple greedy baseline: move the largest VM of the fullest host to the
 * emptiest, while that lowers the spread. Target: at least the baseline's
 * improvement with fewer moves. Spreads are means over the instances;
 * moves are totals. Two runs: `thorough` goes on while a move still helps
 * (as the baseline does); `default` uses the shipped policy defaults
 * (threshold 10 points, at most 10 moves per plan).
 */
import { planActions } from '../src/plan/planned-work.js';
import { planRebalance, type RebalanceOptions } from '../src/plan/rebalance.js';
import { PolicySet } from '../src/policy/policy-set.js';
import { DEFAULT_REBALANCE_RULES } from '../src/policy/rebalance-rules.js';
import { median, round, rng, type BenchLine } from './harness.js';
import { greedyBaseline, memorySpread, unbalancedInstance } from './rebalance/instances.js';

const INSTANCES = 200;

export async function run(): Promise<BenchLine[]> {
  // Thorough: every move that still helps, as the baseline does. Default: the shipped policy defaults (threshold 10 points, 10 moves per plan).
  return [measure('rebalance-thorough', { threshold: 0, maxMoves: 1_000 }), measure('rebalance-default', { threshold: DEFAULT_REBALANCE_RULES.threshold, maxMoves: DEFAULT_REBALANCE_RULES.maxMoves })];
}

function measure(name: string, settings: RebalanceOptions): BenchLine {
  const rand = rng(10);
  const policies = PolicySet.empty();
  const ms: number[] = [];
  let before = 0;
  let after = 0;
  let moves = 0;
  let baseAfter = 0;
  let baseMoves = 0;
  let worse = 0;
  let moreMoves = 0;
  for (let i = 0; i < INSTANCES; i++) {
    const { snapshot, health } = unbalancedInstance(rand);
    const t0 = performance.now();
    const plan = planRebalance({ snapshot, health, policies, inflight: [], now: 0 }, settings);
    ms.push(performance.now() - t0);
    const actions = planActions(plan);
    const where = new Map(actions.flatMap((a) => (a.type === 'migrate' ? [[a.vm, a.to] as [string, string]] : [])));
    const spreadAfter = memorySpread(snapshot, where);
    const base = greedyBaseline(snapshot);
    const baseSpread = memorySpread(snapshot, base.where);
    before += memorySpread(snapshot);
    after += spreadAfter;
    moves += actions.length;
    baseAfter += baseSpread;
    baseMoves += base.moves;
    if (spreadAfter > baseSpread + 0.5) worse += 1;
    if (actions.length > base.moves) moreMoves += 1;
  }
  return {
    name,
    median_ms: round(median(ms), 2),
    instances: INSTANCES,
    threshold: settings.threshold,
    max_moves: settings.maxMoves,
    spread_before: round(before / INSTANCES, 2),
    spread_after: round(after / INSTANCES, 2),
    moves,
    baseline_spread_after: round(baseAfter / INSTANCES, 2),
    baseline_moves: baseMoves,
    instances_worse_than_baseline: worse,
    instances_more_moves_than_baseline: moreMoves,
  };
}
