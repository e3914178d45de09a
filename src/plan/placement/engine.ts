/**
 * Runs filters, then scorers, over every host, and returns the best host or
 * a reason a person understands ("3 hosts lack 64 GiB free memory, 1 host
 * breaks anti-affinity group db"). Deterministic: ties go to the host whose
 * name sorts first.
 */
import type { HostCheck, HostLoad, PlacementContext, PlacementFilter, PlacementRequest, Rejection, WeightedScorer } from './types.js';
import { hostUsable } from './filters/host-usable.js';
import { requiredLabels } from './filters/required-labels.js';
import { datastoresReachable } from './filters/datastores-reachable.js';
import { antiAffinity } from './filters/anti-affinity.js';
import { memoryCapacity } from './filters/memory-capacity.js';
import { cpuCapacity } from './filters/cpu-capacity.js';
import { balance } from './scorers/balance.js';

/** Cheap and decisive checks first: most hosts are refused by the first one that applies. */
export const DEFAULT_FILTERS: readonly PlacementFilter[] = [hostUsable, requiredLabels, datastoresReachable, antiAffinity, memoryCapacity, cpuCapacity];
export const DEFAULT_SCORERS: readonly WeightedScorer[] = [{ scorer: balance, weight: 1 }];

export type PlacementResult =
  | { readonly ok: true; readonly load: HostLoad; readonly score: number; readonly eligible: number }
  | { readonly ok: false; readonly reason: string };

export interface PlacementSteps {
  readonly filters: readonly PlacementFilter[];
  readonly scorers: readonly WeightedScorer[];
}

export const DEFAULT_STEPS: PlacementSteps = { filters: DEFAULT_FILTERS, scorers: DEFAULT_SCORERS };

export function placeVm(req: PlacementRequest, loads: readonly HostLoad[], ctx: PlacementContext, steps: PlacementSteps = DEFAULT_STEPS): PlacementResult {
  const checks: HostCheck[] = [];
  for (const f of steps.filters) {
    const check = f.prepare(req, ctx);
    if (check) checks.push(check);
  }
  const scores = steps.scorers.map(({ scorer, weight }) => ({ score: scorer.prepare(req, ctx), weight }));
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
