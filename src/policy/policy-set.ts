/**
 * A compiled set of policies: the questions the planner asks ("what are
 * this cluster's ratios?", "what rules apply to this VM?") answered without
 * re-reading YAML. Immutable; a reload builds a new set.
 */
import type { Labels, Vm } from '../model/inventory.js';
import type { Priority } from '../model/actions.js';
import { globToRegExp } from './glob.js';
import type { ClusterPolicyDoc, VmPolicyDoc } from './schema.js';

export interface ClusterRules {
  readonly overcommit: { readonly cpu: number; readonly memory: number };
  readonly tolerateHostFailures: number;
}

export interface VmRules {
  /** Name of the VmPolicy that matched, if any. */
  readonly policy?: string;
  readonly priority: Priority;
  readonly antiAffinityGroup?: string;
  readonly requireHostLabels: Labels;
}

export const DEFAULT_CLUSTER_RULES: ClusterRules = { overcommit: { cpu: 4.0, memory: 1.0 }, tolerateHostFailures: 0 };
export const DEFAULT_VM_RULES: VmRules = { priority: 'medium', requireHostLabels: {} };

interface CompiledVmPolicy {
  readonly doc: VmPolicyDoc;
  readonly names?: readonly RegExp[];
}

export class PolicySet {
  private readonly vmPolicies: readonly CompiledVmPolicy[];

  constructor(
    readonly clusterPolicies: readonly ClusterPolicyDoc[] = [],
    vmPolicies: readonly VmPolicyDoc[] = [],
  ) {
    this.vmPolicies = vmPolicies.map((doc) => ({ doc, ...(doc.match.names ? { names: doc.match.names.map(globToRegExp) } : {}) }));
  }

  static empty(): PolicySet {
    return new PolicySet();
  }

  get vmPolicyDocs(): readonly VmPolicyDoc[] {
    return this.vmPolicies.map((p) => p.doc);
  }

  /** Policies for "*" apply first; a policy naming the cluster overrides them key by key. */
  clusterRules(cluster: string): ClusterRules {
    let cpu = DEFAULT_CLUSTER_RULES.overcommit.cpu;
    let memory = DEFAULT_CLUSTER_RULES.overcommit.memory;
    let tolerate = DEFAULT_CLUSTER_RULES.tolerateHostFailures;
    const ordered = [...this.clusterPolicies.filter((p) => p.cluster === '*'), ...this.clusterPolicies.filter((p) => p.cluster === cluster)];
    for (const p of ordered) {
      cpu = p.overcommit?.cpu ?? cpu;
      memory = p.overcommit?.memory ?? memory;
      tolerate = p.admission?.tolerateHostFailures ?? tolerate;
    }
    return { overcommit: { cpu, memory }, tolerateHostFailures: tolerate };
  }

  /** Every VmPolicy that matches, in file order. */
  matching(cluster: string, vm: Pick<Vm, 'name' | 'labels'>): VmPolicyDoc[] {
    return this.vmPolicies.filter((p) => matches(p, cluster, vm)).map((p) => p.doc);
  }

  /** The first matching VmPolicy decides (files in name order, documents in order). */
  vmRules(cluster: string, vm: Pick<Vm, 'name' | 'labels'>): VmRules {
    const p = this.vmPolicies.find((c) => matches(c, cluster, vm));
    if (!p) return DEFAULT_VM_RULES;
    const d = p.doc;
    return {
      policy: d.name,
      priority: (d.restart?.priority as Priority | undefined) ?? DEFAULT_VM_RULES.priority,
      ...(d.placement?.antiAffinityGroup ? { antiAffinityGroup: d.placement.antiAffinityGroup } : {}),
      requireHostLabels: d.placement?.requireHostLabels ?? {},
    };
  }
}

function matches(p: CompiledVmPolicy, cluster: string, vm: Pick<Vm, 'name' | 'labels'>): boolean {
  if (p.doc.cluster !== '*' && p.doc.cluster !== cluster) return false;
  if (p.names && !p.names.some((re) => re.test(vm.name))) return false;
  for (const [k, v] of Object.entries(p.doc.match.labels ?? {})) {
    if (vm.labels[k] !== v) return false;
  }
  return true;
}
