/**
 * Rebalancing, the job of vSphere DRS and Proxmox's CRS: live migrations
 * that even out the load of the hosts that take planned VMs (healthy,
 * connected, not dedicated failover hosts).
 *
 * A host's load is the larger of its memory and CPU use, each measured
 * against what policy allows (after the overcommit ratios), as the balance
 * scorer of placement measures a host: the resource a host runs out of
 * first is the one that matters. The spread is the standard deviation of
 * host load, in percentage points. At or below the threshold nothing moves.
 * Above it, moves are chosen one at a time, each the one that lowers the
 * variance of host load the most (steepest descent, so the big gains come
 * first and few moves do most of the work), until the spread is within the
 * target (half the threshold, so the next run does not start again right
 * away), no move gains enough, or the move limit is reached. Every move
 * passes the placement filters of a planned placement, never makes a soft
 * rule worse (preferred labels, affinity), and moves a VM at most once.
 *
 * Deterministic: VMs are tried in name order and hosts in name order, and a
 * move replaces the best so far only when it gains strictly more.
 */
import type { MigrateAction } from '../model/actions.js';
import type { Vm } from '../model/inventory.js';
import type { HostLoad } from './placement/types.js';
import { hostChanges, hostLoad, PlannedLoads, spreadChange, spreadOf } from './planned-loads.js';
import { compareNames, migrationsPhrase, plural, type PlannedInput, type PlannedWork } from './planned-work.js';

export interface RebalanceOptions {
  /** Nothing moves while the spread of host load is at most this (percentage points). */
  readonly threshold: number;
  readonly maxMoves: number;
  /** Moves stop once the spread is at most this (default: half the threshold). */
  readonly target?: number;
  /**
   * A move must lower the variance of host load by at least this share of
   * what is left of it (default 0.05), so that tiny VMs are not shuffled
   * for nothing.
   */
  readonly minGain?: number;
}

export function planRebalance(input: PlannedInput, options: RebalanceOptions): PlannedWork {
  const cluster = input.snapshot.cluster;
  const before = new PlannedLoads(input);
  const after = new PlannedLoads(input);
  const hosts = after.loads.filter((l) => after.takesPlannedVms(l));
  const target = options.target ?? options.threshold / 2;
  const minGain = options.minGain ?? 0.05;
  const notes: string[] = [];
  const moves: MigrateAction[] = [];
  const start = spreadOf(hosts);

  if (hosts.length < 2) notes.push(`fewer than two hosts can take planned VMs: nothing to even out`);
  else if (start.load <= options.threshold) {
    notes.push(`the spread of host load is ${start.load} points, within the threshold of ${options.threshold}: nothing moves`);
  } else if (input.capabilities?.liveMigration === false) {
    notes.push(`the ${input.snapshot.provider} provider cannot live-migrate`);
  } else {
    const n = hosts.length;
    const index = new Map(hosts.map((h, i) => [h.host.name, i]));
    const load = hosts.map(hostLoad);
    let sum = load.reduce((s, x) => s + x, 0);
    let squares = load.reduce((s, x) => s + x * x, 0);
    const variance = (s1: number, s2: number) => s2 / n - (s1 / n) ** 2;
    const busy = new Set(input.inflight.flatMap((a) => (a.type === 'maintenance' ? [] : [a.vm])));
    const candidates = input.snapshot.vms.filter((v) => v.power === 'on' && index.has(v.host) && !busy.has(v.name)).sort((a, b) => compareNames(a.name, b.name));
    const moved = new Set<string>();
    let stopped = 'no further move within policy lowers the spread enough';
    for (;;) {
      const now = spreadOf(hosts);
      if (now.load <= target) {
        stopped = '';
        break;
      }
      if (moves.length >= options.maxMoves) {
        stopped = `stopped at the limit of ${plural(options.maxMoves, 'move')}; run again to go on`;
        break;
      }
      const objective = variance(sum, squares);
      let best: { vm: Vm; i: number; j: number; gain: number } | undefined;
      for (const vm of candidates) {
        if (moved.has(vm.name)) continue;
        const i = index.get(vm.host) as number;
        const from = hosts[i] as HostLoad;
        const li = loadWithout(from, vm);
        const oldI = load[i] as number;
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const to = hosts[j] as HostLoad;
          const lj = loadWith(to, vm);
          const oldJ = load[j] as number;
          const gain = objective - variance(sum - oldI - oldJ + li + lj, squares - oldI * oldI - oldJ * oldJ + li * li + lj * lj);
          if (gain <= (best?.gain ?? 0) + 1e-12) continue;
          if (after.refuses(vm, to) || softRuleWorse(after, vm, from, to)) continue;
          best = { vm, i, j, gain };
        }
      }
      if (!best || best.gain < minGain * objective) break;
      const { vm, i, j } = best;
      const from = hosts[i] as HostLoad;
      const to = hosts[j] as HostLoad;
      const was = [load[i] as number, load[j] as number] as const;
      after.move(vm, from, to);
      load[i] = hostLoad(from);
      load[j] = hostLoad(to);
      sum = load.reduce((s, x) => s + x, 0);
      squares = load.reduce((s, x) => s + x * x, 0);
      moved.add(vm.name);
      const next = spreadOf(hosts);
      moves.push({
        type: 'migrate',
        cluster,
        vm: vm.name,
        vmId: vm.id,
        from: from.host.name,
        to: to.host.name,
        toId: to.host.id,
        live: true,
        ...(vm.restartMigration ? { byRestart: true as const } : {}),
        reason: `load ${from.host.name} ${pct(was[0])} -> ${pct(load[i])}, ${to.host.name} ${pct(was[1])} -> ${pct(load[j])}; spread ${now.load} -> ${next.load} points`,
      });
    }
    if (stopped) notes.push(stopped);
  }
  const spread = spreadChange(before, after);
  return {
    kind: 'rebalance',
    cluster,
    at: input.now,
    title: moves.length ? `rebalance ${cluster}: ${migrationsPhrase(moves)} (spread of host load ${spread.before.load} -> ${spread.after.load} points)` : `rebalance ${cluster}: nothing to move`,
    phases: moves.length ? [moves] : [],
    blocked: [],
    notes,
    hosts: hostChanges(before, after),
    spread,
  };
}

/** A host's load with one more VM, or one fewer: the larger of its memory and CPU use. */
function loadWith(l: HostLoad, vm: Vm): number {
  return Math.max(share(l.usedMemoryGiB + vm.memoryGiB, l.memoryCapacityGiB), share(l.usedCpu + vm.cpu, l.cpuCapacity));
}

function loadWithout(l: HostLoad, vm: Vm): number {
  return Math.max(share(l.usedMemoryGiB - vm.memoryGiB, l.memoryCapacityGiB), share(l.usedCpu - vm.cpu, l.cpuCapacity));
}

/** Soft rules a rebalance never makes worse: a VM leaves neither its preferred labels nor its affinity group. */
function softRuleWorse(loads: PlannedLoads, vm: Vm, from: HostLoad, to: HostLoad): boolean {
  const rules = loads.rulesOf(vm);
  const preferred = Object.entries(rules.preferHostLabels);
  if (preferred.length) {
    const score = (h: HostLoad) => preferred.filter(([k, v]) => h.host.labels[k] === v).length;
    if (score(to) < score(from)) return true;
  }
  const group = rules.affinityGroup;
  if (group && (to.affinity.get(group) ?? 0) < (from.affinity.get(group) ?? 1) - 1) return true;
  return false;
}

function share(x: number, cap: number): number {
  return cap > 0 ? x / cap : 0;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}
