/**
 * The response to storage loss. Pure: given one snapshot, the hosts'
 * health, the policies, the losses the controller has seen (with how long
 * and what ran there), what is in flight and `now`, it returns the same
 * plan every time.
 *
 * Rules (docs/storage.md has the reasoning):
 * - Only a host that is healthy and connected is handled here; a host that
 *   is failing is the host-failure planner's, with its fencing.
 * - A datastore that no host reaches (lost everywhere) moves nothing: there
 *   is nowhere to go. Alert only.
 * - A loss moves nothing until it has been seen for `storage.actAfter` and
 *   on two polls at least: evidence before action.
 * - `onLoss: migrate` (the default) live-migrates the VMs the manager shows
 *   running on the host and that use the lost datastore, to hosts that
 *   reach all their datastores, none only degraded, and that have lost no
 *   datastore themselves. A live migration hands the VM over; it never runs
 *   it twice, and if it fails the VM stays where it is.
 * - `onLoss: migrate-and-restart` also restarts elsewhere a VM that died
 *   with the loss: seen running on the host while (or just before) it lost
 *   the datastore, then seen powered off on two polls in a row by a manager
 *   that sees the host. A VM shown running, suspended or of unknown power
 *   is never restarted; the platform's HA keeps the VMs it manages.
 * - `onLoss: alert` moves nothing.
 */
import { RESTART_ORDER, type Action, type MigrateAction, type Priority, type RestartAction } from '../model/actions.js';
import { SnapshotIndex, type ClusterSnapshot, type Vm } from '../model/inventory.js';
import { formatDuration } from '../clock/duration.js';
import type { HostHealth } from '../health/types.js';
import type { PolicySet, VmRules } from '../policy/policy-set.js';
import { accessCondition } from '../storage/assess.js';
import type { RestartAttempts } from './restart-plan.js';
import { CapacityState } from './placement/capacity-state.js';
import { DEFAULT_STEPS, placeVm } from './placement/engine.js';
import { rejection, type PlacementFilter } from './placement/types.js';

/** One datastore lost on one host, as the controller has watched it. */
export interface StorageLoss {
  readonly datastore: string;
  readonly host: string;
  /** Clock time of the first poll that saw it. */
  readonly since: number;
  /** Consecutive polls that saw it. */
  readonly polls: number;
  /** VMs on the host using the datastore that were seen running while it was lost, or on the poll just before. */
  readonly runningAtLoss: readonly string[];
}

export interface StorageResponseInput {
  readonly snapshot: ClusterSnapshot;
  readonly health: ReadonlyMap<string, HostHealth>;
  readonly policies: PolicySet;
  readonly losses: readonly StorageLoss[];
  /** Actions accepted and not finished (and the restarts just planned): their VMs are left alone, their targets reserved. */
  readonly inflight: readonly Action[];
  readonly now: number;
  /** Consecutive polls each VM has been seen powered off, by name. */
  readonly offPolls?: ReadonlyMap<string, number>;
  /** Failed earlier attempts per VM name (migrations and restarts of this planner): backoff, then give up. */
  readonly attempts?: ReadonlyMap<string, RestartAttempts>;
}

/** Something seen and deliberately not acted on, with why. */
export interface StorageHeld {
  readonly datastore: string;
  readonly host?: string;
  readonly vm?: string;
  readonly reason: string;
}

export interface StorageResponsePlan {
  readonly actions: readonly (MigrateAction | RestartAction)[];
  readonly held: readonly StorageHeld[];
}

/** Two polls at least, whatever actAfter says: one reading is never evidence. */
const MIN_POLLS = 2;
const MIN_OFF_POLLS = 2;

export function planStorageResponse(input: StorageResponseInput): StorageResponsePlan {
  const { snapshot, health, policies, now } = input;
  const cluster = snapshot.cluster;
  const rules = policies.clusterRules(cluster).storage;
  const index = new SnapshotIndex(snapshot);
  const held: StorageHeld[] = [];
  const busy = new Set(input.inflight.filter((a) => a.type === 'restart' || a.type === 'migrate').map((a) => (a as { vm: string }).vm));

  // Hosts whose own storage is impaired (a datastore lost, or reached only degraded) take no VMs from this planner.
  const impaired = new Map<string, string>();
  for (const d of snapshot.datastores) {
    const a = accessCondition(d);
    for (const h of a.lostOn) if (!impaired.has(h)) impaired.set(h, `lost datastore ${d.name} itself`);
    for (const h of a.degradedOn) if (!impaired.has(h)) impaired.set(h, `reaches datastore ${d.name} only degraded`);
  }
  const storageHealthy: PlacementFilter = {
    name: 'storage-healthy-host',
    prepare: () => (load) => {
      const why = impaired.get(load.host.name);
      return why ? rejection(why, why.replace(/^reaches /, 'reach ')) : undefined;
    },
  };

  const lostEverywhere = new Set<string>();
  for (const d of snapshot.datastores) {
    if (accessCondition(d).condition !== 'lost') continue;
    lostEverywhere.add(d.name);
    const users = snapshot.vms.filter((v) => v.datastores.includes(d.name)).length;
    held.push({ datastore: d.name, reason: `lost on every host that mounts it${users ? ` (${users} VM(s) use it)` : ''}: there is nowhere to move them; alert only` });
  }

  interface Move {
    readonly vm: Vm;
    readonly rules: VmRules;
    readonly loss: StorageLoss;
    readonly kind: 'migrate' | 'restart';
  }
  const moves: Move[] = [];
  const seen = new Set<string>();
  const losses = [...input.losses].sort((a, b) => cmp(a.datastore, b.datastore) || cmp(a.host, b.host));
  for (const loss of losses) {
    if (lostEverywhere.has(loss.datastore)) continue;
    const host = index.hostsByName.get(loss.host);
    const h = health.get(loss.host)?.state ?? (host?.state === 'connected' ? 'healthy' : 'suspect');
    if (!host || host.state !== 'connected' || h !== 'healthy') {
      held.push({ datastore: loss.datastore, host: loss.host, reason: `host ${loss.host} is ${host?.state !== 'connected' ? (host?.state ?? 'gone') : h}: its VMs follow the host-failure rules, not these` });
      continue;
    }
    const users = (index.vmsByHost.get(loss.host) ?? []).filter((v) => v.datastores.includes(loss.datastore) && !busy.has(v.name));
    if (!users.length) continue;
    const seenFor = now - loss.since;
    const confirmed = loss.polls >= MIN_POLLS && seenFor >= rules.actAfterMs;
    const ran = new Set(loss.runningAtLoss);
    for (const vm of users) {
      if (seen.has(vm.name)) continue;
      const vmRules = policies.vmRules(cluster, vm);
      if (vm.power === 'on') {
        if (rules.onLoss === 'alert') {
          held.push({ datastore: loss.datastore, host: loss.host, vm: vm.name, reason: `storage.onLoss is alert: left running on ${loss.host}` });
          continue;
        }
        if (!confirmed) {
          held.push({ datastore: loss.datastore, host: loss.host, vm: vm.name, reason: `waiting for the loss to last ${formatDuration(rules.actAfterMs)} over ${MIN_POLLS} polls before moving it` });
          continue;
        }
        seen.add(vm.name);
        moves.push({ vm, rules: vmRules, loss, kind: 'migrate' });
        continue;
      }
      if (vm.power !== 'off' || !ran.has(vm.name)) {
        if (vm.power !== 'off') held.push({ datastore: loss.datastore, host: loss.host, vm: vm.name, reason: `its power is ${vm.power}: left alone (only a VM the manager shows running is migrated, only one it shows off is restarted)` });
        continue;
      }
      // It ran when the datastore went away, and is off now: it died with the loss.
      if (rules.onLoss !== 'migrate-and-restart') {
        held.push({ datastore: loss.datastore, host: loss.host, vm: vm.name, reason: `it stopped on ${loss.host} after the loss; storage.onLoss is ${rules.onLoss}, so Vigil does not restart it (migrate-and-restart would)` });
        continue;
      }
      if (vm.managedBy) {
        held.push({ datastore: loss.datastore, host: loss.host, vm: vm.name, reason: `it stopped after the loss; the platform's own HA (${vm.managedBy}) recovers it` });
        continue;
      }
      if (vmRules.priority === 'disabled') {
        held.push({ datastore: loss.datastore, host: loss.host, vm: vm.name, reason: `it stopped after the loss; restart disabled by policy ${vmRules.policy ?? ''}`.trim() });
        continue;
      }
      const off = input.offPolls?.get(vm.name) ?? 0;
      if (!confirmed || off < MIN_OFF_POLLS) {
        held.push({ datastore: loss.datastore, host: loss.host, vm: vm.name, reason: `it stopped after the loss; waiting until it is seen off on ${MIN_OFF_POLLS} polls and the loss has lasted ${formatDuration(rules.actAfterMs)}` });
        continue;
      }
      seen.add(vm.name);
      moves.push({ vm, rules: vmRules, loss, kind: 'restart' });
    }
  }
  // Earlier failures: wait, doubling, then leave it to a person (the same counts as restarts after a host failure).
  const ready = moves.filter((m) => {
    const tried = input.attempts?.get(m.vm.name);
    if (!tried) return true;
    const what = m.kind === 'migrate' ? 'migration' : 'restart';
    if (tried.count >= m.rules.maxAttempts) {
      held.push({ datastore: m.loss.datastore, host: m.loss.host, vm: m.vm.name, reason: `gave up after ${tried.count} failed ${what}${tried.count === 1 ? '' : 's'} (last: ${tried.lastError ?? 'unknown error'}); a person must act` });
      return false;
    }
    const backoff = m.rules.retryDelayMs * 2 ** (tried.count - 1);
    if (now < tried.lastAt + backoff) {
      held.push({ datastore: m.loss.datastore, host: m.loss.host, vm: m.vm.name, reason: `waiting ${formatDuration(backoff)} after failed ${what} ${tried.count} of ${m.rules.maxAttempts} (${tried.lastError ?? 'unknown error'})` });
      return false;
    }
    return true;
  });
  moves.length = 0;
  moves.push(...ready);
  // Most important first, the largest first within a priority, so a tight cluster keeps the VMs that matter.
  moves.sort((a, b) => rank(a.rules.priority) - rank(b.rules.priority) || b.vm.memoryGiB - a.vm.memoryGiB || cmp(a.vm.name, b.vm.name));

  held.sort((a, b) => cmp(a.datastore, b.datastore) || cmp(a.host ?? '', b.host ?? '') || cmp(a.vm ?? '', b.vm ?? ''));
  // Nothing to place (the usual poll): skip building the cluster's capacity picture.
  if (!moves.length) return { actions: [], held };
  const capacity = new CapacityState(snapshot, health, policies.clusterRules(cluster), (vm) => policies.vmRules(cluster, vm), input.inflight);
  const steps = { filters: [...DEFAULT_STEPS.filters, storageHealthy], scorers: DEFAULT_STEPS.scorers };
  const restartWaves = new Map<string, number>();
  for (const p of RESTART_ORDER) if (moves.some((m) => m.kind === 'restart' && m.rules.priority === p)) restartWaves.set(p, restartWaves.size + 1);
  const actions: (MigrateAction | RestartAction)[] = [];
  for (const m of moves) {
    const purpose = m.kind === 'migrate' ? ('planned' as const) : ('restart' as const);
    const lastFailedOn = input.attempts?.get(m.vm.name)?.lastTarget;
    const result = placeVm({ vm: m.vm, rules: m.rules, ...(lastFailedOn ? { lastFailedOn } : {}) }, capacity.loads, { index, purpose }, steps);
    const lostFor = `datastore ${m.loss.datastore} lost on ${m.loss.host} for ${formatDuration(now - m.loss.since)} (${m.loss.polls} polls)`;
    if (!result.ok) {
      held.push({ datastore: m.loss.datastore, host: m.loss.host, vm: m.vm.name, reason: `${lostFor}; no host can take it: ${result.reason}` });
      continue;
    }
    capacity.commit(result.load, m.vm, m.rules);
    const to = result.load.host;
    const where = result.eligible === 1 ? `${to.name} is the only eligible host` : `${to.name} is the best of ${result.eligible} eligible hosts`;
    if (m.kind === 'migrate') {
      actions.push({ type: 'migrate', cluster, vm: m.vm.name, vmId: m.vm.id, from: m.vm.host, to: to.name, toId: to.id, live: true, ...(m.vm.restartMigration ? { byRestart: true as const } : {}), cause: 'storage-loss', reason: `${lostFor}; ${where} and reaches all its datastores` });
    } else {
      const priority = m.rules.priority as Exclude<Priority, 'disabled'>;
      actions.push({
        type: 'restart',
        cluster,
        vm: m.vm.name,
        vmId: m.vm.id,
        from: m.vm.host,
        to: to.name,
        toId: to.id,
        priority,
        wave: restartWaves.get(priority) as number,
        cause: 'storage-loss',
        reason: `${lostFor}; it was running and the manager has shown it off on ${input.offPolls?.get(m.vm.name) ?? 0} polls (storage.onLoss: migrate-and-restart); ${where}`,
      });
    }
  }
  held.sort((a, b) => cmp(a.datastore, b.datastore) || cmp(a.host ?? '', b.host ?? '') || cmp(a.vm ?? '', b.vm ?? ''));
  return { actions, held };
}

function rank(p: Priority): number {
  const i = RESTART_ORDER.indexOf(p as Exclude<Priority, 'disabled'>);
  return i < 0 ? RESTART_ORDER.length : i;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
