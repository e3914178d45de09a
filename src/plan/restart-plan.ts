/**
 * Plans the restart of the VMs of failed hosts. Pure: given one snapshot,
 * the hosts' health, the policies, what is already in flight, past restart
 * attempts and `now`, it returns the same plan every time.
 *
 * Order: priority waves (highest first); within a wave the hardest VMs
 * first (most memory, then most vCPUs), so that large VMs are not starved
 * by many small ones; ties by name.
 *
 * Placement spreads VMs for balance. When that leaves some VM without a
 * host, packing strategies (best fit, then first fit) are tried too, and
 * the plan that places the most VMs (counted from the highest priority
 * down) wins; on a tie the balanced plan stays. So Vigil never places fewer
 * VMs than first-fit-decreasing would under the same rules.
 */
import { RESTART_ORDER, type Action, type Plan, type Priority, type RestartAction, type Unplaced } from '../model/actions.js';
import { SnapshotIndex, type ClusterSnapshot, type Vm } from '../model/inventory.js';
import { formatGiB } from '../model/units.js';
import { formatDuration } from '../clock/duration.js';
import type { HostHealth } from '../health/types.js';
import type { PolicySet, VmRules } from '../policy/policy-set.js';
import type { FencingMode } from '../policy/schema.js';
import { globToRegExp } from '../policy/glob.js';
import { storageProtection } from '../storage/protection.js';
import { CapacityState } from './placement/capacity-state.js';
import { placeVm, STRATEGIES, type PlacementStrategy } from './placement/engine.js';

/** Failed restart attempts of one VM, as the controller remembers them. */
export interface RestartAttempts {
  readonly count: number;
  /** Clock time of the last failure. */
  readonly lastAt: number;
  readonly lastTarget?: string;
  readonly lastError?: string;
}

export interface RecoveryInput {
  readonly snapshot: ClusterSnapshot;
  readonly health: ReadonlyMap<string, HostHealth>;
  readonly policies: PolicySet;
  /** Actions accepted earlier and not finished: their VMs are not planned again, their targets are reserved. */
  readonly inflight: readonly Action[];
  readonly now: number;
  /** Past failed attempts per VM name. */
  readonly attempts?: ReadonlyMap<string, RestartAttempts>;
  /** Only these strategies (tests and benchmarks); default: all, as needed. */
  readonly strategies?: readonly PlacementStrategy[];
  /** Hosts that have a fencing agent configured (for `fencing: ifConfigured`). */
  readonly fenceable?: ReadonlySet<string>;
  /** False when the provider cannot start a failed host's VMs elsewhere (its platform's own HA does). */
  readonly canRestartElsewhere?: boolean;
  /** What-if plans (simulate, capacity): the failed hosts are taken as fenced, as they would be before restarts. */
  readonly assumeFenced?: boolean;
}

/** A VM of a failed host that may restart only once its host is proven off. */
export interface AwaitingFence {
  readonly vm: string;
  readonly from: string;
  readonly reason: string;
}

/** A VM that would restart but must not, with the reason (platform HA owns it, policy disables it, a retry waits). */
export interface Skipped {
  readonly vm: string;
  readonly from: string;
  readonly reason: string;
}

export interface RecoveryPlan extends Plan {
  readonly actions: readonly RestartAction[];
  readonly skipped: readonly Skipped[];
  readonly awaitingFence: readonly AwaitingFence[];
  /** The placement strategy whose plan was chosen. */
  readonly strategy: PlacementStrategy['name'];
}

/** Hosts whose VMs are candidates for restart elsewhere: failed, or proven off. */
export function releasesVms(health: HostHealth | undefined): boolean {
  return health?.state === 'failed' || health?.state === 'fenced';
}

/**
 * Why a VM of a failed host must still wait, or undefined when it may go:
 * a fenced host releases every VM; a failed one only those whose fencing
 * mode does not ask for a fence.
 */
export function fenceWait(mode: FencingMode, health: HostHealth, fenceable: boolean): string | undefined {
  if (health.state === 'fenced' || mode === 'none') return undefined;
  if (mode === 'ifConfigured' && !fenceable) return undefined;
  return fenceable
    ? `host ${health.host} must be fenced first`
    : `host ${health.host} must be proven off first, and no fencing agent is configured for it: once it is off, run \`vigil fence confirm ${health.host}\``;
}

interface Candidate {
  readonly vm: Vm;
  readonly rules: VmRules;
  readonly priority: Exclude<Priority, 'disabled'>;
  readonly lastFailedOn?: string;
  /** Starts from its replica (policy accepts the data loss). */
  readonly replica?: { readonly host: string; readonly datastores: readonly string[]; readonly lastSyncAt: number };
}

/** "up to 12m of writes lost: last replication 12:03:10 UTC", the words every replica failover carries. */
export function describeDataLoss(lastSyncAt: number, now: number): string {
  return `up to ${formatDuration(Math.max(0, now - lastSyncAt))} of writes lost: last replication ${new Date(lastSyncAt).toISOString().slice(11, 19)} UTC`;
}

export function planRecovery(input: RecoveryInput): RecoveryPlan {
  const { snapshot, health, policies, inflight, now } = input;
  const cluster = snapshot.cluster;
  const rulesOf = (vm: Vm): VmRules => policies.vmRules(cluster, vm);
  const busy = new Set(inflight.filter((a) => a.type !== 'maintenance').map((a) => (a as { vm: string }).vm));

  const candidates: Candidate[] = [];
  const skipped: Skipped[] = [];
  const gaveUp: Unplaced[] = [];
  const awaitingFence: AwaitingFence[] = [];
  const clusterFencing = policies.clusterRules(cluster).fencing;
  const index = new SnapshotIndex(snapshot);
  for (const vm of snapshot.vms) {
    const hostHealth = health.get(vm.host);
    if (!releasesVms(hostHealth) || vm.power !== 'on' || busy.has(vm.name)) continue;
    if (vm.managedBy) {
      skipped.push({ vm: vm.name, from: vm.host, reason: `recovered by the platform's own HA (${vm.managedBy})` });
      continue;
    }
    if (input.canRestartElsewhere === false) {
      skipped.push({ vm: vm.name, from: vm.host, reason: `the ${snapshot.provider} provider cannot restart VMs on other hosts here; the platform's own HA must` });
      continue;
    }
    const rules = rulesOf(vm);
    if (rules.priority === 'disabled') {
      skipped.push({ vm: vm.name, from: vm.host, reason: `restart disabled by policy ${rules.policy ?? ''}`.trim() });
      continue;
    }
    // Storage first: a VM no other host can run is not worth a fence, and never restarts elsewhere.
    const protection = storageProtection(vm, index, policies.replicationRules(cluster, vm).acceptDataLoss);
    let replica: Candidate['replica'];
    if (protection?.state === 'unprotected') {
      gaveUp.push({ vm: vm.name, vmId: vm.id, cluster, from: vm.host, priority: rules.priority, reason: `unprotected: ${protection.reason}; it runs again only when ${vm.host} is back` });
      continue;
    }
    if (protection?.state === 'replica') {
      const lastSyncAt = vm.replication?.lastSyncAt ?? null;
      if (lastSyncAt === null) {
        gaveUp.push({ vm: vm.name, vmId: vm.id, cluster, from: vm.host, priority: rules.priority, reason: `unprotected: ${protection.datastores.join(', ')} only on ${vm.host}, and its replica on ${protection.replicaHost ?? '?'} never completed a sync` });
        continue;
      }
      replica = { host: protection.replicaHost as string, datastores: protection.datastores, lastSyncAt };
    }
    const waitReason = input.assumeFenced ? undefined : fenceWait(rules.fencing ?? clusterFencing, hostHealth as HostHealth, input.fenceable?.has(vm.host) ?? false);
    if (waitReason) {
      awaitingFence.push({ vm: vm.name, from: vm.host, reason: waitReason });
      continue;
    }
    const priority = rules.priority;
    const tried = input.attempts?.get(vm.name);
    if (tried && tried.count >= rules.maxAttempts) {
      gaveUp.push({ vm: vm.name, vmId: vm.id, cluster, from: vm.host, priority, reason: `gave up after ${tried.count} failed restart attempt${tried.count === 1 ? '' : 's'} (last: ${tried.lastError ?? 'unknown error'}); a person must act` });
      continue;
    }
    if (tried) {
      const backoff = rules.retryDelayMs * 2 ** (tried.count - 1);
      if (now < tried.lastAt + backoff) {
        // Worded without a countdown so the controller logs it once, not on every poll.
        skipped.push({ vm: vm.name, from: vm.host, reason: `waiting ${formatDuration(backoff)} after failed attempt ${tried.count} of ${rules.maxAttempts} (${tried.lastError ?? 'unknown error'})` });
        continue;
      }
    }
    candidates.push({ vm, rules, priority, ...(tried?.lastTarget ? { lastFailedOn: tried.lastTarget } : {}), ...(replica ? { replica } : {}) });
  }
  candidates.sort(restartOrder);
  gaveUp.sort((a, b) => compareNames(a.vm, b.vm));
  skipped.sort((a, b) => compareNames(a.vm, b.vm));
  awaitingFence.sort((a, b) => compareNames(a.vm, b.vm));

  const waveOf = new Map<string, number>();
  for (const p of RESTART_ORDER) if (candidates.some((c) => c.priority === p)) waveOf.set(p, waveOf.size + 1);

  const strategies = input.strategies ?? STRATEGIES;
  let best: Placed | undefined;
  for (const strategy of strategies) {
    const placed = place(candidates, strategy, input, index, rulesOf);
    if (!best || better(placed, best)) best = placed;
    if (best.unplaced.length === 0) break;
  }
  const chosen = best ?? { strategy: strategies[0]?.name ?? 'balance', placements: [], unplaced: [] };

  const placedNames = new Set(chosen.placements.map((p) => p.c.vm.name));
  const actions: RestartAction[] = chosen.placements.map(({ c, to, toId, eligible, freeAfter }) => {
    const after = resolveAfter(c, candidates, placedNames);
    const where = eligible === 1 ? 'the only eligible host' : chosen.strategy === 'balance' ? `the best of ${eligible} eligible hosts` : `packed onto ${to} (${chosen.strategy}: spreading left VMs without a host)`;
    return {
      type: 'restart',
      cluster,
      vm: c.vm.name,
      vmId: c.vm.id,
      from: c.vm.host,
      to,
      toId,
      priority: c.priority,
      wave: waveOf.get(c.priority) as number,
      reason:
        `host ${c.vm.host} ${health.get(c.vm.host)?.state ?? 'failed'}; priority ${c.priority}${c.rules.policy ? ` (policy ${c.rules.policy})` : ''}; ` +
        (c.replica
          ? `starts from its replica on ${to}, as ${c.rules.acceptDataLoss !== undefined ? `policy ${c.rules.policy ?? ''}` : 'the cluster policy'} accepts the data loss: ${describeDataLoss(c.replica.lastSyncAt, now)} (${formatGiB(freeAfter)} memory free after)`
          : `${chosen.strategy === 'balance' || eligible === 1 ? `${to} is ${where}` : where} (${formatGiB(freeAfter)} memory free after)`) +
        (c.lastFailedOn ? `; last attempt failed on ${c.lastFailedOn}` : ''),
      ...(after.length ? { after, afterTimeoutMs: c.rules.afterTimeoutMs } : {}),
      ...(c.replica ? { fromReplica: { lastSyncAt: c.replica.lastSyncAt } } : {}),
    };
  });
  const unplaced = [...chosen.unplaced, ...gaveUp];
  return { cluster, at: now, actions, unplaced, skipped, awaitingFence, strategy: chosen.strategy };
}

interface Placement {
  readonly c: Candidate;
  readonly to: string;
  readonly toId: string;
  readonly eligible: number;
  readonly freeAfter: number;
}

interface Placed {
  readonly strategy: PlacementStrategy['name'];
  readonly placements: readonly Placement[];
  readonly unplaced: readonly Unplaced[];
}

function place(candidates: readonly Candidate[], strategy: PlacementStrategy, input: RecoveryInput, index: SnapshotIndex, rulesOf: (vm: Vm) => VmRules): Placed {
  const cluster = input.snapshot.cluster;
  const capacity = new CapacityState(input.snapshot, input.health, input.policies.clusterRules(cluster), rulesOf, input.inflight);
  const ctx = { index, purpose: 'restart' as const, hasFailoverHosts: capacity.loads.some((l) => l.failover) };
  const placements: Placement[] = [];
  const unplaced: Unplaced[] = [];
  for (const c of candidates) {
    const result = placeVm({ vm: c.vm, rules: c.rules, ...(c.lastFailedOn ? { lastFailedOn: c.lastFailedOn } : {}), ...(c.replica ? { replica: c.replica } : {}) }, capacity.loads, ctx, strategy);
    if (!result.ok) {
      unplaced.push({ vm: c.vm.name, vmId: c.vm.id, cluster, from: c.vm.host, priority: c.priority, reason: result.reason });
      continue;
    }
    capacity.commit(result.load, c.vm, c.rules);
    placements.push({ c, to: result.load.host.name, toId: result.load.host.id, eligible: result.eligible, freeAfter: result.load.memoryCapacityGiB - result.load.usedMemoryGiB });
  }
  return { strategy: strategy.name, placements, unplaced };
}

/** More VMs placed at the highest priority where the two differ. */
function better(a: Placed, b: Placed): boolean {
  for (const p of RESTART_ORDER) {
    const na = a.placements.filter((x) => x.c.priority === p).length;
    const nb = b.placements.filter((x) => x.c.priority === p).length;
    if (na !== nb) return na > nb;
  }
  return false;
}

/** `after:` entries (VM globs, `policy:NAME`) resolved to the VMs of this plan that will restart. */
function resolveAfter(c: Candidate, candidates: readonly Candidate[], placed: ReadonlySet<string>): string[] {
  if (!c.rules.after.length) return [];
  const deps = new Set<string>();
  for (const entry of c.rules.after) {
    const byPolicy = entry.startsWith('policy:') ? entry.slice('policy:'.length) : undefined;
    const re = byPolicy === undefined ? globToRegExp(entry) : undefined;
    for (const other of candidates) {
      if (other.vm.name === c.vm.name || !placed.has(other.vm.name)) continue;
      if (byPolicy !== undefined ? other.rules.policy === byPolicy : re?.test(other.vm.name)) deps.add(other.vm.name);
    }
  }
  return [...deps].sort(compareNames);
}

function restartOrder(a: Candidate, b: Candidate): number {
  return RESTART_ORDER.indexOf(a.priority) - RESTART_ORDER.indexOf(b.priority) || b.vm.memoryGiB - a.vm.memoryGiB || b.vm.cpu - a.vm.cpu || compareNames(a.vm.name, b.vm.name);
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
