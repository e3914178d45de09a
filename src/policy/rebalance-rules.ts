/**
 * A cluster's rebalancing settings (ClusterPolicy `rebalance:`), merged as
 * every cluster rule is: policies for "*" first, then the ones naming the
 * cluster, key by key, later files over earlier ones.
 */
import type { PolicySet } from './policy-set.js';

export interface RebalanceRules {
  /** The service rebalances by itself. */
  readonly auto: boolean;
  /** Spread of host load (standard deviation of each host's larger of memory and CPU use, percentage points) above which anything moves. */
  readonly threshold: number;
  /** Automatic runs are at least this far apart. */
  readonly intervalMs: number;
  /** Migrations in one plan at most. */
  readonly maxMoves: number;
}

export const DEFAULT_REBALANCE_RULES: RebalanceRules = { auto: false, threshold: 10, intervalMs: 3_600_000, maxMoves: 10 };

export function rebalanceRules(policies: PolicySet, cluster: string): RebalanceRules {
  let r = DEFAULT_REBALANCE_RULES;
  const docs = [...policies.clusterPolicies.filter((p) => p.cluster === '*'), ...policies.clusterPolicies.filter((p) => p.cluster === cluster)];
  for (const p of docs) {
    const b = p.rebalance;
    if (!b) continue;
    r = { auto: b.auto ?? r.auto, threshold: b.threshold ?? r.threshold, intervalMs: b.interval ?? r.intervalMs, maxMoves: b.maxMoves ?? r.maxMoves };
  }
  return r;
}
