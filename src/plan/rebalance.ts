/**
 * Rebalancing, the job of vSphere DRS and Proxmox's CRS: live migrations
 * that even out memory and CPU use across the hosts that take planned VMs
 * (healthy, connected, not dedicated failover hosts).
 *
 * Use is measured against what policy allows (memory and vCPUs after their
 * overcommit ratios); the spread is the standard deviation of host use, in
 * percentage points. When neither the memory nor the CPU spread exceeds the
 * threshold, nothing moves. Otherwise moves are chosen one at a time, each
 * the one that lowers the sum of the two variances the most (steepest
 * descent), until both spreads are within the target (half the threshold,
 * so that the next run does not start again right away), no move gains
 * enough, or the move limit is reached. Every move passes the placement
 * filters of a planned placement, never makes a soft rule worse (preferred
 * labels, affinity), and moves a VM at most once.
 *
 * Deterministic: VMs are tried in name order and hosts in name order, and a
 * move replaces the best so far only when it gains strictly more.
 */
import type { MigrateAction } from '../model/actions.js';
import type { Vm } from '../model/inventory.js';
import type { HostLoad } from './placement/types.js';
import { cpuUse, hostChanges, memoryUse, PlannedLoads, spreadChange, spreadOf } from './planned-loads.js';
import { compareNames, plural, type PlannedInput, type PlannedWork } from './planned-work.js';

export interface RebalanceOptions {
  /** Nothing moves while both spreads are at most this (percentage points). */
  readonly threshold: number;
  readonly maxMoves: number;
  /** Moves stop once both spreads are at most this (default: half the threshold). */
  readonly target?: number;
  /**
   * A move must lower the objective (sum of the memory and CPU variances)
   * by at least this share of what is left of it (default 0.05), so that
   * tiny VMs are not shuffled for nothing.
   */
  readonly minGain?: number;
}

interface Sums {
  s1: number;
  s2: number;
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
  const imbalance = (s: { memory: number; cpu: number }) => Math.max(s.memory, s.cpu);

  if (hosts.length < 2) notes.push(`fewer than two hosts can take planned VMs: nothing to even out`);
  else if (imbalance(start) <= options.threshold) {
    notes.push(`memory spread ${start.memory} and CPU spread ${start.cpu} points are within the threshold of ${options.threshold}: nothing moves`);
  } else if (input.capabilities?.liveMigration === false) {
    notes.push(`the ${input.snapshot.provider} provider cannot live-migrate`);
  } else {
    const n = hosts.length;
    const index = new Map(hosts.map((h, i) => [h.host.name, i]));
    const mem = hosts.map(memoryUse);
    const cpu = hosts.map(cpuUse);
    const sums = (xs: number[]): Sums => ({ s1: xs.reduce((s, x) => s + x, 0), s2: xs.reduce((s, x) => s + x * x, 0) });
    const variance = (s: Sums) => s.s2 / n - (s.s1 / n) ** 2;
    let m = sums(mem);
    let c = sums(cpu);
    const busy = new Set(input.inflight.flatMap((a) => (a.type === 'maintenance' ? [] : [a.vm])));
    const candidates = input.snapshot.vms.filter((v) => v.power === 'on' && index.has(v.host) && !busy.has(v.name)).sort((a, b) => compareNames(a.name, b.name));
    const moved = new Set<string>();
    let stopped = 'no further move within policy lowers the spread enough';
    for (;;) {
      const now = spreadOf(hosts);
      if (imbalance(now) <= target) {
        stopped = '';
        break;
      }
      if (moves.length >= options.maxMoves) {
        stopped = `stopped at the limit of ${plural(options.maxMoves, 'move')}; run again to go on`;
        break;
      }
      const objective = variance(m) + variance(c);
      let best: { vm: Vm; i: number; j: number; gain: number } | undefined;
      for (const vm of candidates) {
        if (moved.has(vm.name)) continue;
        const i = index.get(vm.host) as number;
        const from = hosts[i] as HostLoad;
        const dmFrom = share(vm.memoryGiB, from.memoryCapacityGiB);
        const dcFrom = share(vm.cpu, from.cpuCapacity);
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const to = hosts[j] as HostLoad;
          const dmTo = share(vm.memoryGiB, to.memoryCapacityGiB);
          const dcTo = share(vm.cpu, to.cpuCapacity);
          const m2 = shifted(m, mem[i] as number, dmFrom, mem[j] as number, dmTo);
          const c2 = shifted(c, cpu[i] as number, dcFrom, cpu[j] as number, dcTo);
          const gain = objective - (variance(m2) + variance(c2));
          if (gain <= (best?.gain ?? 0) + 1e-12) continue;
          if (after.refuses(vm, to) || softRuleWorse(after, vm, from, to)) continue;
          best = { vm, i, j, gain };
        }
      }
      if (!best || best.gain < minGain * objective) break;
      const { vm, i, j } = best;
      const from = hosts[i] as HostLoad;
      const to = hosts[j] as HostLoad;
      const memBefore = [mem[i] as number, mem[j] as number];
      after.move(vm, from, to);
      mem[i] = memoryUse(from);
      mem[j] = memoryUse(to);
      cpu[i] = cpuUse(from);
      cpu[j] = cpuUse(to);
      m = sums(mem);
      c = sums(cpu);
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
        reason:
          `memory ${from.host.name} ${pct(memBefore[0] as number)} -> ${pct(mem[i])}, ${to.host.name} ${pct(memBefore[1] as number)} -> ${pct(mem[j])}; ` +
          `spread memory ${now.memory} -> ${next.memory}, CPU ${now.cpu} -> ${next.cpu} points`,
      });
    }
    if (stopped) notes.push(stopped);
  }
  const spread = spreadChange(before, after);
  return {
    kind: 'rebalance',
    cluster,
    at: input.now,
    title: moves.length
      ? `rebalance ${cluster}: ${plural(moves.length, 'live migration')} (spread memory ${spread.before.memory} -> ${spread.after.memory}, CPU ${spread.before.cpu} -> ${spread.after.cpu} points)`
      : `rebalance ${cluster}: nothing to move`,
    phases: moves.length ? [moves] : [],
    blocked: [],
    notes,
    hosts: hostChanges(before, after),
    spread,
  };
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

/** The sums after a VM's share leaves host i (use a) and lands on host j (use b). */
function shifted(s: Sums, a: number, da: number, b: number, db: number): Sums {
  const a2 = a - da;
  const b2 = b + db;
  return { s1: s.s1 - da + db, s2: s.s2 - a * a + a2 * a2 - b * b + b2 * b2 };
}

function share(x: number, cap: number): number {
  return cap > 0 ? x / cap : 0;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}
