/**
 * Runs filters, then scorers, over every host, and returns the best host or
 * a reason a person understands ("3 hosts lack 64 GiB free memory, 1 host
 * breaks anti-affinity group db"). Deterministic: ties go to the host whose
 * name sorts first.
 */
import type { HostCheck, HostLoad, HostScore, PlacementContext, PlacementFilter, PlacementRequest, Rejection, WeightedScorer } from './types.js';
import { hostUsable } from './filters/host-usable.js';
import { requiredLabels } from './filters/required-labels.js';
import { datastoresReachable } from './filters/datastores-reachable.js';
import { antiAffinity } from './filters/anti-affinity.js';
import { memoryCapacity } from './filters/memory-capacity.js';
import { cpuCapacity } from './filters/cpu-capacity.js';
import { failoverHosts } from './filters/failover-hosts.js';
import { avoidHosts } from './filters/avoid-hosts.js';
import { replicaHost } from './filters/replica-host.js';
import { balance } from './scorers/balance.js';
import { preferredLabels } from './scorers/preferred-labels.js';
import { affinity } from './scorers/affinity.js';
import { failoverFirst } from './scorers/failover-first.js';
import { awayFromLastFailure } from './scorers/away-from-last-failure.js';
import { bestFit, firstFit } from './scorers/packing.js';

/** Cheap and decisive checks first: most hosts are refused by the first one that applies. */
export const DEFAULT_FILTERS: readonly PlacementFilter[] = [hostUsable, failoverHosts, avoidHosts, requiredLabels, replicaHost, datastoresReachable, antiAffinity, memoryCapacity, cpuCapacity];

/**
 * Soft rules outweigh balance (each scores 0..100): a preference a person
 * wrote down beats an even spread; a host where the last attempt failed
 * is the last choice.
 */
const SOFT_RULES: readonly WeightedScorer[] = [
  { scorer: awayFromLastFailure, weight: 8 },
  { scorer: failoverFirst, weight: 4 },
  { scorer: preferredLabels, weight: 2 },
  { scorer: affinity, weight: 2 },
];
export const DEFAULT_SCORERS: readonly WeightedScorer[] = [...SOFT_RULES, { scorer: balance, weight: 1 }];

export type PlacementResult =
  | { readonly ok: true; readonly load: HostLoad; readonly score: number; readonly eligible: number }
  | { readonly ok: false; readonly reason: string };

export interface PlacementSteps {
  readonly filters: readonly PlacementFilter[];
  readonly scorers: readonly WeightedScorer[];
}

export interface PlacementStrategy extends PlacementSteps {
  readonly name: 'balance' | 'best-fit' | 'first-fit';
}

export const DEFAULT_STEPS: PlacementStrategy = { name: 'balance', filters: DEFAULT_FILTERS, scorers: DEFAULT_SCORERS };

/** Tried in order when the one before leaves VMs without a host; the plan that places the most wins. */
export const STRATEGIES: readonly PlacementStrategy[] = [
  DEFAULT_STEPS,
  { name: 'best-fit', filters: DEFAULT_FILTERS, scorers: [...SOFT_RULES, { scorer: bestFit, weight: 1 }] },
  { name: 'first-fit', filters: DEFAULT_FILTERS, scorers: [...SOFT_RULES, { scorer: firstFit, weight: 1 }] },
];

export function placeVm(req: PlacementRequest, loads: readonly HostLoad[], ctx: PlacementContext, steps: PlacementSteps = DEFAULT_STEPS): PlacementResult {
  const checks: HostCheck[] = [];
  for (const f of steps.filters) {
    const check = f.prepare(req, ctx);
    if (check) checks.push(check);
  }
  const scores: { score: HostScore; weight: number }[] = [];
  for (const { scorer, weight } of steps.scorers) {
    const score = scorer.prepare(req, ctx);
    if (score) scores.push({ score, weight });
  }
  let best: HostLoad | undefined;
  let bestScore = -Infinity;
  let eligible = 0;
  let refusals: Map<string, { rejection: Rejection; count: number }> | undefined;
  for (const load of loads) {
    let refused: Rejection | undefined;
    for (let i = 0; i < checks.length && !refused; i++) refused = (checks[i] as HostCheck)(load);
    if (refused) {
      refusals ??= new Map();
      const entry = refusals.get(refused.many);
      if (entry) entry.count += 1;
      else refusals.set(refused.many, { rejection: refused, count: 1 });
      continue;
    }
    eligible += 1;
    let score = 0;
    for (const s of scores) score += s.weight * s.score(load);
    if (score > bestScore + 1e-9 || (Math.abs(score - bestScore) <= 1e-9 && best && load.host.name < best.host.name)) {
      best = load;
      bestScore = score;
    }
  }
  if (best) return { ok: true, load: best, score: bestScore, eligible };
  return { ok: false, reason: describeRefusals(refusals ?? new Map<string, { rejection: Rejection; count: number }>(), loads.length) };
}

function describeRefusals(refusals: Map<string, { rejection: Rejection; count: number }>, hosts: number): string {
  if (hosts === 0) return 'the cluster has no hosts';
  const parts = [...refusals.values()]
    .sort((a, b) => b.count - a.count || a.rejection.many.localeCompare(b.rejection.many))
    .map(({ rejection, count }) => (count === 1 ? `1 host ${rejection.one}` : `${count} hosts ${rejection.many}`));
  return parts.join(', ');
}
