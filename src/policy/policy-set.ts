/**
 * A compiled set of policies: the questions the planner asks ("what are
 * this cluster's ratios?", "what rules apply to this VM?") answered without
 * re-reading YAML. Immutable; a reload builds a new set.
 */
import type { Labels, Vm } from '../model/inventory.js';
import type { Priority } from '../model/actions.js';
import { globToRegExp } from './glob.js';
import type { ClusterPolicyDoc, FencingMode, StorageLossResponse, VmPolicyDoc } from './schema.js';

/** `storage:` of the ClusterPolicy, merged ("*" first, then the cluster's own). */
export interface StorageRules {
  /** Free-space levels (percent free) when a policy sets them; otherwise the alerts section's datastoreFree levels apply. */
  readonly free?: { readonly warningPercent: number; readonly criticalPercent: number };
  readonly onLoss: StorageLossResponse;
  /** A loss must be seen for this long (and on two polls at least) before anything moves. */
  readonly actAfterMs: number;
  readonly rpoMs?: number;
  readonly acceptDataLoss: boolean;
}

export interface ClusterRules {
  readonly overcommit: { readonly cpu: number; readonly memory: number };
  readonly tolerateHostFailures: number;
  /** Share of the cluster to keep free, 0..90 percent. */
  readonly reservePercent: { readonly cpu: number; readonly memory: number };
  /** Globs naming the dedicated failover hosts. */
  readonly failoverHosts: readonly string[];
  readonly fencing: FencingMode;
  readonly storage: StorageRules;
}

export interface VmRules {
  /** Name of the VmPolicy that matched, if any. */
  readonly policy?: string;
  readonly priority: Priority;
  readonly antiAffinityGroup?: string;
  readonly affinityGroup?: string;
  readonly requireHostLabels: Labels;
  readonly preferHostLabels: Labels;
  /** Compiled `avoidHosts` globs. */
  readonly avoidHosts: readonly RegExp[];
  /** `after:` entries as written: VM name globs or `policy:NAME`. */
  readonly after: readonly string[];
  readonly afterTimeoutMs: number;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  /** Set when a VmPolicy overrides the cluster's fencing mode. */
  readonly fencing?: FencingMode;
  /** Set when a VmPolicy overrides the cluster's storage.rpo / storage.acceptDataLoss. */
  readonly rpoMs?: number;
  readonly acceptDataLoss?: boolean;
}

export const DEFAULT_STORAGE_RULES: StorageRules = { onLoss: 'migrate', actAfterMs: 30_000, acceptDataLoss: false };

export const DEFAULT_CLUSTER_RULES: ClusterRules = {
  overcommit: { cpu: 4.0, memory: 1.0 },
  tolerateHostFailures: 0,
  reservePercent: { cpu: 0, memory: 0 },
  failoverHosts: [],
  fencing: 'required',
  storage: DEFAULT_STORAGE_RULES,
};

/** vSphere HA waits 600 s for a dependency; pve-ha-manager retries once. Vigil: 5 minutes, 3 attempts, 30 s doubling. */
export const DEFAULT_VM_RULES: VmRules = {
  priority: 'medium',
  requireHostLabels: {},
  preferHostLabels: {},
  avoidHosts: [],
  after: [],
  afterTimeoutMs: 300_000,
  maxAttempts: 3,
  retryDelayMs: 30_000,
};

interface CompiledVmPolicy {
  readonly doc: VmPolicyDoc;
  readonly names?: readonly RegExp[];
  readonly rules: VmRules;
}

export class PolicySet {
  private readonly vmPolicies: readonly CompiledVmPolicy[];
  private readonly clusterCache = new Map<string, ClusterRules>();

  constructor(
    readonly clusterPolicies: readonly ClusterPolicyDoc[] = [],
    vmPolicies: readonly VmPolicyDoc[] = [],
  ) {
    this.vmPolicies = vmPolicies.map((doc) => ({ doc, ...(doc.match.names ? { names: doc.match.names.map(globToRegExp) } : {}), rules: compileRules(doc) }));
  }

  static empty(): PolicySet {
    return new PolicySet();
  }

  get vmPolicyDocs(): readonly VmPolicyDoc[] {
    return this.vmPolicies.map((p) => p.doc);
  }

  /** Policies for "*" apply first; a policy naming the cluster overrides them key by key. */
  clusterRules(cluster: string): ClusterRules {
    const cached = this.clusterCache.get(cluster);
    if (cached) return cached;
    let { cpu, memory } = DEFAULT_CLUSTER_RULES.overcommit;
    let tolerate = DEFAULT_CLUSTER_RULES.tolerateHostFailures;
    let reserve = DEFAULT_CLUSTER_RULES.reservePercent;
    let failoverHosts = DEFAULT_CLUSTER_RULES.failoverHosts;
    let fencing = DEFAULT_CLUSTER_RULES.fencing;
    let storage: StorageRules = DEFAULT_STORAGE_RULES;
    const ordered = [...this.clusterPolicies.filter((p) => p.cluster === '*'), ...this.clusterPolicies.filter((p) => p.cluster === cluster)];
    for (const p of ordered) {
      cpu = p.overcommit?.cpu ?? cpu;
      memory = p.overcommit?.memory ?? memory;
      tolerate = p.admission?.tolerateHostFailures ?? tolerate;
      reserve = { cpu: p.admission?.reservePercent?.cpu ?? reserve.cpu, memory: p.admission?.reservePercent?.memory ?? reserve.memory };
      failoverHosts = p.admission?.failoverHosts ?? failoverHosts;
      fencing = p.fencing ?? fencing;
      storage = mergeStorage(storage, p.storage);
    }
    const rules = { overcommit: { cpu, memory }, tolerateHostFailures: tolerate, reservePercent: reserve, failoverHosts, fencing, storage };
    this.clusterCache.set(cluster, rules);
    return rules;
  }

  /** Every VmPolicy that matches, in file order. */
  matching(cluster: string, vm: Pick<Vm, 'name' | 'labels'>): VmPolicyDoc[] {
    return this.vmPolicies.filter((p) => matches(p, cluster, vm)).map((p) => p.doc);
  }

  /** The first matching VmPolicy decides (files in name order, documents in order). */
  vmRules(cluster: string, vm: Pick<Vm, 'name' | 'labels'>): VmRules {
    return this.vmPolicies.find((c) => matches(c, cluster, vm))?.rules ?? DEFAULT_VM_RULES;
  }

  /** The RPO and data-loss rule for one VM: its VmPolicy's `replication`, else the cluster's `storage`. */
  replicationRules(cluster: string, vm: Pick<Vm, 'name' | 'labels'>): { readonly rpoMs?: number; readonly acceptDataLoss: boolean; readonly policy?: string } {
    const rules = this.vmRules(cluster, vm);
    const storage = this.clusterRules(cluster).storage;
    const rpoMs = rules.rpoMs ?? storage.rpoMs;
    return { ...(rpoMs !== undefined ? { rpoMs } : {}), acceptDataLoss: rules.acceptDataLoss ?? storage.acceptDataLoss, ...(rules.policy ? { policy: rules.policy } : {}) };
  }
}

/** Key by key; the two free-space levels travel together (the schema makes a policy set both or neither). */
function mergeStorage(base: StorageRules, doc: ClusterPolicyDoc['storage']): StorageRules {
  if (!doc) return base;
  const free = doc.freeWarning !== undefined && doc.freeCritical !== undefined ? { warningPercent: doc.freeWarning, criticalPercent: doc.freeCritical } : base.free;
  const rpoMs = doc.rpo ?? base.rpoMs;
  return {
    ...(free ? { free } : {}),
    onLoss: doc.onLoss ?? base.onLoss,
    actAfterMs: doc.actAfter ?? base.actAfterMs,
    ...(rpoMs !== undefined ? { rpoMs } : {}),
    acceptDataLoss: doc.acceptDataLoss ?? base.acceptDataLoss,
  };
}

function compileRules(d: VmPolicyDoc): VmRules {
  const r = d.restart;
  const p = d.placement;
  return {
    policy: d.name,
    priority: (r?.priority as Priority | undefined) ?? DEFAULT_VM_RULES.priority,
    ...(p?.antiAffinityGroup ? { antiAffinityGroup: p.antiAffinityGroup } : {}),
    ...(p?.affinityGroup ? { affinityGroup: p.affinityGroup } : {}),
    requireHostLabels: p?.requireHostLabels ?? {},
    preferHostLabels: p?.preferHostLabels ?? {},
    avoidHosts: (p?.avoidHosts ?? []).map(globToRegExp),
    after: r?.after ?? [],
    afterTimeoutMs: r?.afterTimeout ?? DEFAULT_VM_RULES.afterTimeoutMs,
    maxAttempts: r?.maxAttempts ?? DEFAULT_VM_RULES.maxAttempts,
    retryDelayMs: r?.retryDelay ?? DEFAULT_VM_RULES.retryDelayMs,
    ...(r?.fencing ? { fencing: r.fencing } : {}),
    ...(d.replication?.rpo !== undefined ? { rpoMs: d.replication.rpo } : {}),
    ...(d.replication?.acceptDataLoss !== undefined ? { acceptDataLoss: d.replication.acceptDataLoss } : {}),
  };
}

function matches(p: CompiledVmPolicy, cluster: string, vm: Pick<Vm, 'name' | 'labels'>): boolean {
  if (p.doc.cluster !== '*' && p.doc.cluster !== cluster) return false;
  if (p.names && !p.names.some((re) => re.test(vm.name))) return false;
  for (const [k, v] of Object.entries(p.doc.match.labels ?? {})) {
    if (vm.labels[k] !== v) return false;
  }
  return true;
}

/** True when a host name matches one of the cluster's failover-host globs. */
export function isFailoverHost(rules: ClusterRules, host: string): boolean {
  return rules.failoverHosts.some((g) => globToRegExp(g).test(host));
}
