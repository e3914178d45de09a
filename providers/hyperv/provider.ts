/**
 * The Hyper-V provider: Vigil's contract in terms of the scripts. It keeps
 * one PowerShell session per cluster entry, what the last snapshots saw (for
 * nodes that cannot be read now, and for the role names and configuration
 * paths operations need), and the tasks it started. It decides nothing:
 * which VM goes where comes from the controller.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../src/clock/clock.js';
import { ErrorCodes, isVigilError, messageOf, VigilError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import type { ClusterSnapshot } from '../../src/model/inventory.js';
import { PROVIDER_CONTRACT_VERSION, type HostRef, type Provider, type ProviderCapabilities, type TaskRef, type TaskState, type VmRef } from '../../src/provider.js';
import type { HyperVClusterConfig } from './config.js';
import { HyperVProtocolError } from './errors.js';
import { FailoverWatch, type FailoverEvent } from './failover-watch.js';
import type { PowerShellSession } from './session.js';
import { mapSnapshot, newMemory, rawSnapshotSchema, type KnownVm, type SnapshotMemory } from './snapshot-map.js';
import { decide, statusInput, taskFactsSchema, type TaskKind, type TaskRecord } from './tasks.js';

export const CLUSTER_CAPABILITIES: ProviderCapabilities = { liveMigration: true, restartElsewhere: true, maintenanceMode: true, storageHealth: true, events: false, powerOff: false };
export const STANDALONE_CAPABILITIES: ProviderCapabilities = { ...CLUSTER_CAPABILITIES, maintenanceMode: false };

/** Finished tasks kept for `task()` to answer; older ones are forgotten. */
const KEEP_TASKS = 2_000;

export interface SnapshotStats {
  /** Invocations the last snapshot took (the target is 1). */
  readonly roundTrips: number;
  /** Time spent turning the answer into the model (JSON, validation, mapping), in ms. */
  readonly parseMs: number;
}

export class HyperVProvider implements Provider {
  readonly kind = 'hyperv';
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly capabilities: ProviderCapabilities;
  private readonly memory: SnapshotMemory = newMemory();
  private known = new Map<string, KnownVm>();
  private readonly tasks = new Map<string, TaskRecord>();
  private taskCounter = 0;
  /** Cluster nodes to reach the cluster through; the one that answered last goes first. */
  private seeds: string[];
  private lastStats: SnapshotStats = { roundTrips: 0, parseMs: 0 };
  private readonly watch = new FailoverWatch();
  /** What the cluster did on its own after node failures, most recent last (bounded). */
  readonly failoverEvents: FailoverEvent[] = [];

  constructor(
    private readonly config: HyperVClusterConfig,
    private readonly session: PowerShellSession,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.capabilities = config.cluster ? CLUSTER_CAPABILITIES : STANDALONE_CAPABILITIES;
    this.seeds = config.cluster ? [...(config.nodes ?? [config.cluster])] : [];
  }

  get stats(): SnapshotStats {
    return this.lastStats;
  }

  async snapshot(signal?: AbortSignal): Promise<ClusterSnapshot> {
    signal?.throwIfAborted();
    const before = this.session.invocations;
    const input = this.config.cluster
      ? { mode: 'cluster', seeds: this.seeds }
      : { mode: 'standalone', hosts: this.config.hosts, shares: this.config.sharedStorage ?? [] };
    const result = await this.session.call('snapshot', input, { mutating: false, what: 'snapshot' });
    const t0 = performance.now();
    const parsed = rawSnapshotSchema.safeParse(result);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown';
      throw new HyperVProtocolError('shape', where, `snapshot: the answer does not have the expected shape (${where})`, true);
    }
    const raw = parsed.data;
    if (raw.mode === 'cluster' && !raw.cluster) throw new HyperVProtocolError('shape', 'cluster', 'snapshot: a cluster answer without the cluster part', true);
    if (raw.via) this.refreshSeeds(raw.via, (raw.cluster?.nodes ?? []).filter((n) => /^(up|paused)$/i.test(n.state)).map((n) => n.name));
    const mapped = mapSnapshot(raw, { name: this.config.name, takenAt: this.clock.now(), ...(this.config.hosts ? { hosts: this.config.hosts } : {}), sharedStorage: this.config.sharedStorage ?? [] }, this.memory);
    this.known = new Map(mapped.vms);
    for (const [host, why] of mapped.unreadable) this.logger.debug({ host, why }, 'host could not be read in this snapshot');
    for (const e of this.watch.observe(mapped.snapshot)) {
      this.failoverEvents.push(e);
      if (this.failoverEvents.length > 500) this.failoverEvents.shift();
      const within = `within ${Math.round(e.withinMs / 100) / 10}s of ${e.from} last being seen up`;
      if (e.kind === 'cluster-restarted') this.logger.info({ vm: e.vm, from: e.from, to: e.to, withinMs: e.withinMs }, `the cluster restarted ${e.vm} on ${e.to ?? '?'} ${within}`);
      else this.logger.warn({ vm: e.vm, from: e.from, withinMs: e.withinMs }, `the cluster gave up on ${e.vm} (role Failed) ${within}; it is Vigil's to restart`);
    }
    this.lastStats = { roundTrips: this.session.invocations - before, parseMs: performance.now() - t0 + this.session.lastParseMs };
    return mapped.snapshot;
  }

  async migrate(vm: VmRef, to: HostRef, opts: { live: boolean }): Promise<TaskRef> {
    const k = await this.vmFacts(vm);
    const what = `migrate ${vm.name}`;
    const result = await this.session.call(
      'migrate',
      k.clustered ? { clustered: true, seeds: this.seeds, group: k.group, vmId: vm.id, to: to.id, live: opts.live } : { clustered: false, from: k.host, vmId: vm.id, to: to.id, live: opts.live },
      { mutating: true, subject: 'vm', what },
    );
    const started = jobStart(result, what);
    return this.track('migrate', { clustered: k.clustered, vmId: vm.id, ...(k.group ? { group: k.group } : {}), from: started.from ?? k.host, to: to.id, job: { node: started.jobNode, id: started.jobId }, live: opts.live });
  }

  async restart(vm: VmRef, on: HostRef): Promise<TaskRef> {
    const k = await this.vmFacts(vm);
    const what = `restart ${vm.name} on ${on.name}`;
    if (k.clustered) {
      const result = await this.session.call('start-role', { seeds: this.seeds, group: k.group, vmId: vm.id, to: on.id }, { mutating: true, subject: 'vm', what });
      const started = jobStart(result, what);
      return this.track('start-role', { clustered: true, vmId: vm.id, ...(k.group ? { group: k.group } : {}), from: k.host, to: on.id, job: { node: started.jobNode, id: started.jobId } });
    }
    if (!k.path) throw new VigilError(ErrorCodes.PROVIDER_REFUSED, `${what}: the VM's configuration path is not known (it was never seen on a host that answered)`, { expected: true });
    const configPath = `${k.path.replace(/\\+$/, '')}\\Virtual Machines\\${vm.id.toUpperCase()}.vmcx`;
    const result = await this.session.call('register-vm', { to: on.id, vmId: vm.id, configPath }, { mutating: true, subject: 'vm', what });
    const started = jobStart(result, what);
    return this.track('register-vm', { clustered: false, vmId: vm.id, from: k.host, to: on.id, job: { node: started.jobNode, id: started.jobId } });
  }

  async setMaintenance(host: HostRef, on: boolean): Promise<TaskRef> {
    const what = `${on ? 'enter' : 'exit'} maintenance on ${host.name}`;
    if (!this.config.cluster) {
      throw new VigilError(ErrorCodes.PROVIDER_REFUSED, `${what}: standalone Hyper-V hosts have no maintenance mode; move their VMs with migrations instead`, { expected: true });
    }
    const { maintenance } = this.config;
    await this.session.call(on ? 'drain' : 'resume', on ? { seeds: this.seeds, node: host.id, force: maintenance.forceDrain } : { seeds: this.seeds, node: host.id, failback: maintenance.failback }, {
      mutating: true,
      subject: 'host',
      what,
    });
    return this.track(on ? 'drain' : 'resume', { clustered: true, node: host.id });
  }

  async task(ref: TaskRef): Promise<TaskState> {
    const t = this.tasks.get(ref.id);
    if (!t) throw new VigilError(ErrorCodes.UNKNOWN_TASK, `task ${ref.id} is not known to this provider`, { expected: true });
    if (t.final) return t.final;
    let facts: unknown;
    try {
      facts = await this.session.call('task-status', statusInput(t, this.seeds), { mutating: false, what: `task ${ref.id}` });
    } catch (e) {
      // Not being able to look is not the task failing: the executor asks again until its deadline.
      if (isVigilError(e) && e.retryable) {
        this.logger.warn({ task: ref.id, err: messageOf(e) }, 'cannot read task status now');
        return { state: 'running' };
      }
      throw e;
    }
    const parsed = taskFactsSchema.safeParse(facts);
    if (!parsed.success) throw new HyperVProtocolError('shape', 'task-status', `task ${ref.id}: the status answer does not have the expected shape`, true);
    const state = decide(t, parsed.data);
    if (state.state === 'success' || state.state === 'error') t.final = state;
    return state;
  }

  /** The cluster's word that a node is down: only a cluster can vouch; a standalone host cannot. */
  async hostDownProof(host: HostRef): Promise<{ readonly proven: boolean; readonly evidence: string }> {
    if (!this.config.cluster) return { proven: false, evidence: `${host.name} is a standalone Hyper-V host; no cluster membership can vouch that it is down` };
    const facts = taskFactsSchema.parse(await this.session.call('task-status', { seeds: this.seeds, node: host.id }, { mutating: false, what: `down-proof of ${host.name}` }));
    const n = facts.node;
    if (!n?.found) return { proven: false, evidence: `cluster ${this.config.cluster} has no node ${host.name}` };
    const state = n.state ?? 'Unknown';
    if (/isolated|quarantined/i.test(n.status ?? '')) return { proven: false, evidence: `cluster ${this.config.cluster} reports ${host.name} ${state} (${n.status ?? ''}); an isolated node may keep its VMs running for the resiliency period` };
    if (/^down$/i.test(state)) return { proven: true, evidence: `cluster ${this.config.cluster} reports node ${host.name} Down: it is out of the cluster membership, so its clustered roles cannot be online on it` };
    return { proven: false, evidence: `cluster ${this.config.cluster} reports node ${host.name} ${state}` };
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  /** What operations need about a VM (its role, host, configuration path); a VM not seen yet is looked for once. */
  private async vmFacts(vm: VmRef): Promise<KnownVm> {
    const id = vm.id.toLowerCase();
    let k = this.known.get(id) ?? this.memory.vms.get(id);
    if (!k) {
      await this.snapshot();
      k = this.known.get(id);
    }
    if (!k) throw new VigilError(ErrorCodes.UNKNOWN_VM, `no VM with id ${vm.id} (${vm.name}) in the last snapshot of ${this.config.name}`, { expected: true });
    if (k.clustered && !k.group) throw new VigilError(ErrorCodes.PROVIDER_REFUSED, `${vm.name} is clustered but its cluster role is not known`, { expected: true });
    return k;
  }

  private track(kind: TaskKind, fields: Omit<TaskRecord, 'id' | 'kind' | 'createdAt'>): TaskRef {
    const id = `hyperv-${kind}-${++this.taskCounter}`;
    this.tasks.set(id, { id, kind, createdAt: this.clock.now(), ...fields });
    if (this.tasks.size > KEEP_TASKS) {
      for (const [k, t] of this.tasks) {
        if (this.tasks.size <= KEEP_TASKS) break;
        if (t.final) this.tasks.delete(k);
      }
    }
    return { id, op: kind };
  }

  /** The node that answered first, then the configured ones, then every other member, so one dead node never cuts Vigil off. */
  private refreshSeeds(via: string, members: readonly string[]): void {
    const configured = this.config.nodes ?? [this.config.cluster as string];
    this.seeds = [...new Set([via, ...configured, ...members])];
  }
}

function jobStart(result: unknown, what: string): { jobNode: string; jobId: string; from?: string } {
  const r = result as { jobNode?: unknown; jobId?: unknown; from?: unknown } | null;
  if (!r || typeof r.jobNode !== 'string' || typeof r.jobId !== 'string' || !r.jobId) {
    throw new HyperVProtocolError('shape', 'job', `${what}: the platform accepted the call but did not say which job carries it`, false);
  }
  return { jobNode: r.jobNode, jobId: r.jobId, ...(typeof r.from === 'string' && r.from ? { from: r.from } : {}) };
}
