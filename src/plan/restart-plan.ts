/**
 * Plans the restart of the VMs of failed hosts. Pure: given one snapshot,
 * the hosts' health, the policies, what is already in flight and `now`, it
 * returns the same plan every time.
 *
 * Order: priority waves (highest first); within a wave the hardest VMs
 * first (most memory, then most vCPUs), so that large VMs are not starved
 * by many small ones; ties by name.
 */
import { RESTART_ORDER, type Action, type Plan, type Priority, type RestartAction, type Unplaced } from '../model/actions.js';
import { SnapshotIndex, type ClusterSnapshot, type Vm } from '../model/inventory.js';
import { formatGiB } from '../model/units.js';
import type { HostHealth } from '../health/types.js';
import type { PolicySet, VmRules } from '../policy/policy-set.js';
import { CapacityState } from './placement/capacity-state.js';
import { DEFAULT_STEPS, placeVm, type PlacementSteps } from './placement/engine.js';

export interface RecoveryInput {
  readonly snapshot: ClusterSnapshot;
  readonly health: ReadonlyMap<string, HostHealth>;
  readonly policies: PolicySet;
  /** Actions accepted earlier and not finished: their VMs are not planned again, their targets are reserved. */
  readonly inflight: readonly Action[];
  readonly now: number;
  readonly steps?: PlacementSteps;
}

/** A VM that would restart but must not, with the reason (platform HA owns it, policy disables it). */
export interface Skipped {
  readonly vm: string;
  readonly from: string;
  readonly reason: string;
}

export interface RecoveryPlan extends Plan {
  readonly actions: readonly RestartAction[];
  readonly skipped: readonly Skipped[];
}

/** Hosts whose VMs may be restarted elsewhere: failed (or proven off). */
export function releasesVms(health: HostHealth | undefined): boolean {
  return health?.state === 'failed' || health?.state === 'fenced';
}

interface Candidate {
  readonly vm: Vm;
  readonly rules: VmRules;
  readonly priority: Exclude<Priority, 'disabled'>;
}

export function planRecovery(input: RecoveryInput): RecoveryPlan {
  const { snapshot, health, policies, inflight, now } = input;
  const cluster = snapshot.cluster;
  const index = new SnapshotIndex(snapshot);
  const rulesOf = (vm: Vm): VmRules => policies.vmRules(cluster, vm);
  const busy = new Set(inflight.filter((a) => a.type !== 'maintenance').map((a) => (a as { vm: string }).vm));

  const candidates: Candidate[] = [];
  const skipped: Skipped[] = [];
  for (const vm of snapshot.vms) {
    const hostHealth = health.get(vm.host);
    if (!releasesVms(hostHealth) || vm.power !== 'on' || busy.has(vm.name)) continue;
    if (vm.managedBy) {
      skipped.push({ vm: vm.name, from: vm.host, reason: `recovered by the platform's own HA (${vm.managedBy})` });
      continue;
    }
    const rules = rulesOf(vm);
    if (rules.priority === 'disabled') {
      skipped.push({ vm: vm.name, from: vm.host, reason: `restart disabled by policy ${rules.policy ?? ''}`.trim() });
      continue;
    }
    candidates.push({ vm, rules, priority: rules.priority });
  }
  candidates.sort(restartOrder);
  skipped.sort((a, b) => (a.vm < b.vm ? -1 : a.vm > b.vm ? 1 : 0));

  const waveOf = new Map<string, number>();
  for (const p of RESTART_ORDER) if (candidates.some((c) => c.priority === p)) waveOf.set(p, waveOf.size + 1);

  const capacity = new CapacityState(snapshot, health, policies.clusterRules(cluster), rulesOf, inflight);
  const actions: RestartAction[] = [];
  const unplaced: Unplaced[] = [];
  for (const c of candidates) {
    const from = c.vm.host;
    const placed = placeVm({ vm: c.vm, rules: c.rules }, capacity.loads, { index }, input.steps ?? DEFAULT_STEPS);
    if (!placed.ok) {
      unplaced.push({ vm: c.vm.name, vmId: c.vm.id, cluster, from, priority: c.priority, reason: placed.reason });
      continue;
    }
    capacity.commit(placed.load, c.vm, c.rules);
    const free = placed.load.memoryCapacityGiB - placed.load.usedMemoryGiB;
    actions.push({
      type: 'restart',
      cluster,
      vm: c.vm.name,
      vmId: c.vm.id,
      from,
      to: placed.load.host.name,
      toId: placed.load.host.id,
      priority: c.priority,
      wave: waveOf.get(c.priority) as number,
      reason:
        `host ${from} ${health.get(from)?.state ?? 'failed'}; priority ${c.priority}${c.rules.policy ? ` (policy ${c.rules.policy})` : ''}; ` +
        `${placed.load.host.name} is ${placed.eligible === 1 ? 'the only eligible host' : `the best of ${placed.eligible} eligible hosts`} (${formatGiB(free)} memory free after)`,
    });
  }
  return { cluster, at: now, actions, unplaced, skipped };
}

function restartOrder(a: Candidate, b: Candidate): number {
  return (
    RESTART_ORDER.indexOf(a.priority) - RESTART_ORDER.indexOf(b.priority) ||
    b.vm.memoryGiB - a.vm.memoryGiB ||
    b.vm.cpu - a.vm.cpu ||
    (a.vm.name < b.vm.name ? -1 : a.vm.name > b.vm.name ? 1 : 0)
  );
}
