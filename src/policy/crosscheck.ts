/**
 * Checks policies against what they name: clusters, VMs, labels, hosts,
 * groups and other policies. A name that matches nothing is a warning with
 * its position (the rule is probably mistyped); a reference to a policy that
 * does not exist is an error. Run by `vigil validate`, with an inventory
 * (or live clusters) when one is given.
 */
import type { Problem } from '../config/problems.js';
import { problemAt, type YamlPath } from '../config/yaml-source.js';
import type { ClusterSnapshot } from '../model/inventory.js';
import { RESTART_ORDER } from '../model/actions.js';
import { globToRegExp } from './glob.js';
import type { PolicySet } from './policy-set.js';
import type { PolicySource } from './load.js';
import type { VmPolicyDoc } from './schema.js';

export interface CrossCheckInput {
  readonly sources: readonly PolicySource[];
  readonly policies: PolicySet;
  /** Cluster names from the config. */
  readonly clusterNames?: readonly string[];
  /** Snapshots (from an inventory file or live clusters) to check names against. */
  readonly snapshots?: readonly ClusterSnapshot[];
}

export function crossCheckPolicies(i: CrossCheckInput): Problem[] {
  const problems: Problem[] = [];
  const warn = (s: PolicySource, path: YamlPath, message: string) => problems.push(problemAt(s.doc, path, message, 'warning'));
  const vmPolicies = i.sources.filter((s): s is PolicySource & { policy: VmPolicyDoc } => s.policy.kind === 'VmPolicy');
  const policyNames = new Set(vmPolicies.map((s) => s.policy.name));
  const priorityOf = new Map(vmPolicies.map((s) => [s.policy.name, s.policy.restart?.priority ?? 'medium']));

  // References to other policies can be checked without any inventory.
  for (const s of vmPolicies) {
    (s.policy.restart?.after ?? []).forEach((entry, idx) => {
      if (!entry.startsWith('policy:')) return;
      const target = entry.slice('policy:'.length);
      if (!policyNames.has(target)) problems.push(problemAt(s.doc, ['restart', 'after', idx], `after: no VmPolicy named "${target}"`));
      else if (target === s.policy.name) problems.push(problemAt(s.doc, ['restart', 'after', idx], 'after: a policy cannot wait for itself'));
      else if (rank(priorityOf.get(target)) > rank(s.policy.restart?.priority ?? 'medium')) {
        warn(s, ['restart', 'after', idx], `after: VMs of "${target}" restart in a later wave (priority ${priorityOf.get(target)}), so these wait for the timeout`);
      }
    });
  }
  for (const cycle of afterCycles(vmPolicies.map((s) => s.policy))) {
    const s = vmPolicies.find((x) => x.policy.name === cycle[0]);
    if (s) warn(s, ['restart', 'after'], `after: policies wait for each other (${cycle.join(' -> ')}); each waits for its timeout`);
  }

  const clusters = new Set([...(i.clusterNames ?? []), ...(i.snapshots ?? []).map((s) => s.cluster)]);
  if (clusters.size) {
    for (const s of i.sources) {
      const c = s.policy.cluster;
      if (c !== '*' && !clusters.has(c)) warn(s, ['cluster'], `cluster "${c}" does not exist (known: ${[...clusters].join(', ')})`);
    }
  }
  const snaps = i.snapshots ?? [];
  if (!snaps.length) return problems;

  const scoped = (cluster: string) => snaps.filter((x) => cluster === '*' || x.cluster === cluster);
  for (const s of vmPolicies) {
    const p = s.policy;
    const inScope = scoped(p.cluster);
    // A policy for a cluster that is not here already has its warning; every name in it would match nothing.
    if (!inScope.length) continue;
    const vms = inScope.flatMap((x) => x.vms);
    const hosts = inScope.flatMap((x) => x.hosts);
    (p.match.names ?? []).forEach((g, idx) => {
      const re = globToRegExp(g);
      if (!vms.some((v) => re.test(v.name))) warn(s, ['match', 'names', idx], `no VM matches "${g}"`);
    });
    for (const [k, v] of Object.entries(p.match.labels ?? {})) {
      if (!vms.some((vm) => vm.labels[k] === v)) warn(s, ['match', 'labels', k], `no VM has label ${k}=${v}`);
    }
    for (const key of ['requireHostLabels', 'preferHostLabels'] as const) {
      for (const [k, v] of Object.entries(p.placement?.[key] ?? {})) {
        if (!hosts.some((h) => h.labels[k] === v)) warn(s, ['placement', key, k], `no host has label ${k}=${v}`);
      }
    }
    (p.placement?.avoidHosts ?? []).forEach((g, idx) => {
      const re = globToRegExp(g);
      if (!hosts.some((h) => re.test(h.name))) warn(s, ['placement', 'avoidHosts', idx], `no host matches "${g}"`);
    });
    (p.restart?.after ?? []).forEach((entry, idx) => {
      if (entry.startsWith('policy:')) return;
      const re = globToRegExp(entry);
      if (!vms.some((v) => re.test(v.name))) warn(s, ['restart', 'after', idx], `after: no VM matches "${entry}"`);
    });
  }
  for (const s of i.sources) {
    if (s.policy.kind !== 'ClusterPolicy') continue;
    const hosts = scoped(s.policy.cluster).flatMap((x) => x.hosts);
    (s.policy.admission?.failoverHosts ?? []).forEach((g, idx) => {
      const re = globToRegExp(g);
      if (!hosts.some((h) => re.test(h.name))) warn(s, ['admission', 'failoverHosts', idx], `no host matches "${g}"`);
    });
    const tolerate = s.policy.admission?.tolerateHostFailures;
    for (const snap of scoped(s.policy.cluster)) {
      if (tolerate !== undefined && tolerate >= snap.hosts.length) warn(s, ['admission', 'tolerateHostFailures'], `cluster ${snap.cluster} has ${snap.hosts.length} hosts: it cannot tolerate ${tolerate} failures`);
    }
  }

  // Which policy decides each VM, and which VMs several policies match.
  const groupMembers = new Map<string, { anti: number; aff: number }>();
  const overlaps = new Map<string, { decidedBy: string; vms: string[] }>();
  for (const snap of snaps) {
    for (const vm of snap.vms) {
      const matching = i.policies.matching(snap.cluster, vm);
      const decider = matching[0];
      if (decider?.placement?.antiAffinityGroup) bump(groupMembers, decider.placement.antiAffinityGroup, 'anti');
      if (decider?.placement?.affinityGroup) bump(groupMembers, decider.placement.affinityGroup, 'aff');
      for (const other of matching.slice(1)) {
        const key = `${other.name}\u0000${decider?.name ?? ''}`;
        const entry = overlaps.get(key) ?? { decidedBy: decider?.name ?? '', vms: [] };
        entry.vms.push(vm.name);
        overlaps.set(key, entry);
      }
    }
  }
  for (const [key, { decidedBy, vms }] of overlaps) {
    const name = key.split('\u0000')[0] as string;
    const s = vmPolicies.find((x) => x.policy.name === name);
    if (s) warn(s, ['name'], `VmPolicy "${name}" also matches ${vms.length} VM(s) that "${decidedBy}" decides (the first match wins): ${vms.slice(0, 5).join(', ')}${vms.length > 5 ? ', ...' : ''}`);
  }
  for (const s of vmPolicies) {
    for (const [key, kind] of [
      ['antiAffinityGroup', 'anti'],
      ['affinityGroup', 'aff'],
    ] as const) {
      const group = s.policy.placement?.[key];
      if (group && (groupMembers.get(group)?.[kind] ?? 0) < 2) warn(s, ['placement', key], `group "${group}" has fewer than two VMs; it has no effect`);
    }
  }
  return problems;
}

function rank(priority: string | undefined): number {
  const i = RESTART_ORDER.indexOf((priority ?? 'medium') as never);
  return i < 0 ? RESTART_ORDER.length : i;
}

function bump(m: Map<string, { anti: number; aff: number }>, group: string, kind: 'anti' | 'aff'): void {
  const e = m.get(group) ?? { anti: 0, aff: 0 };
  e[kind] += 1;
  m.set(group, e);
}

/** Cycles among `after: policy:X` references. */
function afterCycles(policies: readonly VmPolicyDoc[]): string[][] {
  const edges = new Map(policies.map((p) => [p.name, (p.restart?.after ?? []).filter((a) => a.startsWith('policy:')).map((a) => a.slice(7))]));
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(n)), n]);
      return;
    }
    state.set(n, 'visiting');
    stack.push(n);
    for (const m of edges.get(n) ?? []) if (edges.has(m) && m !== n) visit(m);
    stack.pop();
    state.set(n, 'done');
  };
  for (const p of policies) visit(p.name);
  return cycles;
}
