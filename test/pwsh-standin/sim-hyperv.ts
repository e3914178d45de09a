/**
 * STAND-IN, NOT HYPER-V. A simulated Hyper-V estate kept in memory: a
 * Failover Cluster (nodes Up/Down/Paused, isolated or unreachable nodes, VM
 * roles with owner, state, priority, anti-affinity class names, failover
 * threshold and persistent state, Cluster Shared Volumes with a state per
 * node including redirected access, Hyper-V Replica) or standalone hosts
 * with SMB shares. It answers the provider's scripts (identified by their
 * marker) with the JSON the real scripts would print, and it plays the
 * cluster's own behaviour where Vigil depends on it: a failed node's roles
 * fail over after a delay unless their failover threshold is spent, a
 * drain moves roles one at a time, a live migration takes time, jobs live
 * in the PowerShell process that started them.
 *
 * Time is `now()` (wall clock by default); events fall due lazily whenever
 * the model is touched, so nothing runs behind a test's back.
 */
import { createHash } from 'node:crypto';

export type NodeState = 'Up' | 'Down' | 'Paused' | 'Joining';
export type VmState = 'Running' | 'Off' | 'Saved' | 'Paused' | 'Starting';
export type GroupState = 'Online' | 'Offline' | 'Failed' | 'Pending' | 'PartialOnline';
export type CsvNodeState = 'Direct' | 'FileSystemRedirected' | 'BlockRedirected' | 'Unavailable' | 'Paused';

export interface Timings {
  /** A live migration, start to finish. */
  liveMigrationMs: number;
  /** Each role moved by a drain. */
  drainPerRoleMs: number;
  /** Starting a role or a VM. */
  startMs: number;
  /** From a node's failure to the cluster failing its roles over. */
  failoverDelayMs: number;
}

export interface SimSpec {
  /** Failover Cluster name; absent for standalone hosts. */
  readonly cluster?: string;
  readonly nodes: readonly { name: string; cpu?: number; memoryGiB?: number; state?: NodeState }[];
  readonly csvs?: readonly { name: string; path: string; sizeGiB?: number; freeGiB?: number }[];
  /** Standalone: SMB shares every host reaches. */
  readonly shares?: readonly string[];
  readonly vms: readonly SimVmSpec[];
  readonly timings?: Partial<Timings>;
}

export interface SimVmSpec {
  readonly name: string;
  readonly host: string;
  readonly cpu?: number;
  readonly memoryGiB?: number;
  readonly state?: VmState;
  /** Folder of the VM's configuration; default under the first CSV or share. */
  readonly path?: string;
  /** Default: true in a cluster. */
  readonly clustered?: boolean;
  readonly priority?: number;
  readonly antiAffinity?: readonly string[];
  readonly failoverThreshold?: number;
  readonly replication?: { replicaServer: string; state?: string; health?: string; lastReplicationAgoMs?: number };
}

interface SimNode {
  name: string;
  state: NodeState;
  status: 'Normal' | 'Isolated' | 'Quarantined';
  drainStatus: 'NotInitiated' | 'InProgress' | 'Completed' | 'Failed';
  cpu: number;
  memoryGiB: number;
  /** Remoting reaches it (WinRM/SSH answer). */
  reachable: boolean;
}

interface SimVm {
  id: string;
  name: string;
  /** Hosts it is registered on (standalone: a stale registration stays on a dead host). */
  registrations: string[];
  /** Where it truly runs, if it runs. */
  runningOn: string | null;
  state: VmState;
  cpu: number;
  memoryGiB: number;
  path: string;
  clustered: boolean;
  replication?: { replicaServer: string; state: string; health: string; lastAt: number | null };
}

interface SimGroup {
  id: string;
  name: string;
  owner: string;
  state: GroupState;
  priority: number;
  antiAffinity: string[];
  failoverThreshold: number;
  failoverPeriodHours: number;
  persistentState: number;
  vmId: string;
  failovers: number[];
}

interface SimCsv {
  id: string;
  name: string;
  path: string;
  owner: string;
  state: 'Online' | 'Offline' | 'Failed';
  sizeGiB: number;
  freeGiB: number;
  perNode: Map<string, CsvNodeState>;
}

interface SimJob {
  id: string;
  /** The PowerShell process whose remote session holds the job. */
  pid: number;
  node: string;
  state: 'Running' | 'Completed' | 'Failed';
  reason: string | null;
}

export interface SimLogEntry {
  readonly t: number;
  readonly op: string;
  readonly vm?: string;
  readonly host?: string;
  readonly error?: string;
}

/** What a script prints: the JSON document, or what went to stderr. */
export interface ScriptAnswer {
  readonly stdout?: string;
  readonly stderr?: string;
}

export class ScriptFailure extends Error {
  constructor(
    readonly id: string,
    readonly category: string,
    message: string,
    readonly type = 'System.Exception',
  ) {
    super(message);
  }
}

const DEFAULT_TIMINGS: Timings = { liveMigrationMs: 200, drainPerRoleMs: 60, startMs: 120, failoverDelayMs: 150 };
const GiB = 2 ** 30;

export function guidFor(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class SimHyperV {
  readonly clusterName?: string;
  readonly timings: Timings;
  private readonly nodes = new Map<string, SimNode>();
  private readonly vms = new Map<string, SimVm>();
  private readonly groups = new Map<string, SimGroup>();
  private readonly csvs: SimCsv[] = [];
  private readonly shares = new Map<string, Set<string>>();
  private readonly jobs = new Map<string, SimJob>();
  private events: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;
  private readonly logEntries: SimLogEntry[] = [];
  /** Every script the stand-in was asked to run, in order. */
  readonly invocations: { script: string; pid: number; input: unknown }[] = [];

  constructor(
    spec: SimSpec,
    readonly now: () => number = Date.now,
  ) {
    this.clusterName = spec.cluster;
    this.timings = { ...DEFAULT_TIMINGS, ...spec.timings };
    for (const n of spec.nodes) {
      this.nodes.set(n.name, { name: n.name, state: n.state ?? 'Up', status: 'Normal', drainStatus: 'NotInitiated', cpu: n.cpu ?? 32, memoryGiB: n.memoryGiB ?? 256, reachable: (n.state ?? 'Up') !== 'Down' });
    }
    for (const c of spec.csvs ?? []) {
      const perNode = new Map<string, CsvNodeState>();
      for (const n of this.nodes.keys()) perNode.set(n, 'Direct');
      this.csvs.push({ id: guidFor(`csv:${c.name}`), name: c.name, path: c.path, owner: spec.nodes[0]?.name ?? '', state: 'Online', sizeGiB: c.sizeGiB ?? 4096, freeGiB: c.freeGiB ?? 2048, perNode });
    }
    for (const s of spec.shares ?? []) this.shares.set(s, new Set());
    const storageRoot = spec.csvs?.[0]?.path ?? spec.shares?.[0] ?? 'D:\\Hyper-V';
    for (const v of spec.vms) {
      const clustered = v.clustered ?? Boolean(spec.cluster);
      const id = guidFor(`vm:${v.name}:${v.host}`);
      const state = v.state ?? 'Running';
      this.vms.set(id, {
        id,
        name: v.name,
        registrations: [v.host],
        runningOn: state === 'Running' ? v.host : null,
        state,
        cpu: v.cpu ?? 2,
        memoryGiB: v.memoryGiB ?? 4,
        path: v.path ?? `${storageRoot}\\VMs\\${v.name.replace(/[\\/:*?"<>|\n\r]/g, '_')}`,
        clustered,
        ...(v.replication
          ? { replication: { replicaServer: v.replication.replicaServer, state: v.replication.state ?? 'Replicating', health: v.replication.health ?? 'Normal', lastAt: v.replication.lastReplicationAgoMs === undefined ? null : this.now() - v.replication.lastReplicationAgoMs } }
          : {}),
      });
      if (clustered) {
        this.groups.set(v.name, {
          id: guidFor(`group:${v.name}`),
          name: v.name,
          owner: v.host,
          state: state === 'Running' ? 'Online' : 'Offline',
          priority: v.priority ?? 2000,
          antiAffinity: [...(v.antiAffinity ?? [])],
          failoverThreshold: v.failoverThreshold ?? Math.max(1, spec.nodes.length - 1),
          failoverPeriodHours: 6,
          persistentState: state === 'Running' ? 1 : 0,
          vmId: id,
          failovers: [],
        });
      }
    }
  }

  // ---- side channel: what tests do to the estate ----

  /** The node dies: its VMs stop; a cluster fails its roles over after failoverDelayMs, unless a role's threshold is spent. */
  failNode(name: string): void {
    this.settle();
    const n = this.node(name);
    n.state = 'Down';
    n.reachable = false;
    for (const c of this.csvs) c.perNode.delete(name);
    for (const vm of this.vms.values()) {
      if (vm.runningOn === name) {
        vm.runningOn = null;
        this.log('crash', vm.name, name);
      }
    }
    if (!this.clusterName) return;
    this.schedule(this.timings.failoverDelayMs, () => this.failOver(name));
  }

  recoverNode(name: string): void {
    this.settle();
    const n = this.node(name);
    n.state = 'Up';
    n.status = 'Normal';
    n.reachable = true;
    n.drainStatus = 'NotInitiated';
    for (const c of this.csvs) c.perNode.set(name, 'Direct');
    for (const vm of this.vms.values()) if (vm.registrations.includes(name) && vm.runningOn === null && !vm.clustered) vm.state = 'Off';
  }

  /** Remoting to the node fails, but the cluster still counts it a member. */
  setReachable(name: string, reachable: boolean): void {
    this.node(name).reachable = reachable;
  }

  /** The cluster lost contact with the node; its VMs keep running unmonitored (compute resiliency). */
  isolateNode(name: string): void {
    const n = this.node(name);
    n.status = 'Isolated';
    n.reachable = false;
  }

  setCsvState(csv: string, node: string, state: CsvNodeState): void {
    const c = this.csvs.find((x) => x.name === csv);
    if (!c) throw new Error(`no CSV ${csv}`);
    c.perNode.set(node, state);
  }

  setShareReachable(share: string, host: string, reachable: boolean): void {
    const lost = this.shares.get(share);
    if (!lost) throw new Error(`no share ${share}`);
    if (reachable) lost.delete(host);
    else lost.add(host);
  }

  setFailoverThreshold(group: string, threshold: number): void {
    this.group(group).failoverThreshold = threshold;
  }

  // ---- what tests read back ----

  log(): readonly SimLogEntry[];
  log(op: string, vm?: string, host?: string, error?: string): void;
  log(op?: string, vm?: string, host?: string, error?: string): readonly SimLogEntry[] | void {
    if (op === undefined) return [...this.logEntries];
    this.logEntries.push({ t: this.now(), op, ...(vm !== undefined ? { vm } : {}), ...(host !== undefined ? { host } : {}), ...(error ? { error } : {}) });
  }

  /** Where each VM truly runs (after due events). */
  truth(): Map<string, string | null> {
    this.settle();
    return new Map([...this.vms.values()].map((v) => [v.name, v.runningOn]));
  }

  vmId(name: string): string {
    const vm = [...this.vms.values()].find((v) => v.name === name);
    if (!vm) throw new Error(`no VM ${name}`);
    return vm.id;
  }

  groupState(name: string): { owner: string; state: GroupState } {
    this.settle();
    const g = this.group(name);
    return { owner: g.owner, state: g.state };
  }

  nodeState(name: string): { state: NodeState; drainStatus: string } {
    this.settle();
    const n = this.node(name);
    return { state: n.state, drainStatus: n.drainStatus };
  }

  /** Runs due events; the model calls it on every touch. */
  settle(): void {
    for (;;) {
      const now = this.now();
      this.events.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.events[0];
      if (!next || next.at > now) return;
      this.events.shift();
      next.run();
    }
  }

  // ---- the scripts ----

  /** Answers one script as the real one would; a ScriptFailure becomes its {"ok":false} document. */
  run(script: string, input: Record<string, unknown>, pid: number): ScriptAnswer {
    this.settle();
    this.invocations.push({ script, pid, input });
    try {
      const result = this.dispatch(script, input, pid);
      return { stdout: psJson({ ok: true, result }) };
    } catch (e) {
      if (e instanceof ScriptFailure) return { stdout: psJson({ ok: false, error: { type: e.type, message: e.message, category: e.category, id: e.id } }) };
      throw e;
    }
  }

  private dispatch(script: string, a: Record<string, unknown>, pid: number): unknown {
    switch (script) {
      case 'session-open':
        return { transport: text(a.transport), psVersion: '7.4.6 (stand-in)' };
      case 'snapshot':
        return this.snapshotAnswer(a);
      case 'migrate':
        return this.migrate(a, pid);
      case 'drain':
        return this.drain(a);
      case 'resume':
        return this.resume(a);
      case 'start-role':
        return this.startRole(a, pid);
      case 'register-vm':
        return this.registerVm(a, pid);
      case 'task-status':
        return this.taskStatus(a, pid);
      default:
        throw new Error(`the stand-in has no script ${script}`);
    }
  }

  /** Like Invoke-VigilOnCluster: the first seed that is a reachable member answers. */
  private reach(seeds: unknown): string {
    const list = Array.isArray(seeds) ? seeds.map(String) : [];
    for (const s of list) {
      const n = this.nodes.get(s) ?? (s === this.clusterName ? [...this.nodes.values()].find((x) => x.state !== 'Down' && x.reachable) : undefined);
      if (n && n.reachable && n.state !== 'Down') return s;
    }
    throw new ScriptFailure('PSSessionOpenFailed', 'OpenError', `Connecting to remote server ${list[list.length - 1] ?? ''} failed with the following error message : WinRM cannot complete the operation. For more information, see the about_Remote_Troubleshooting Help topic.`, 'System.Management.Automation.Remoting.PSRemotingTransportException');
  }

  private snapshotAnswer(a: Record<string, unknown>): unknown {
    const mode = text(a.mode);
    const out: Record<string, unknown> = { mode };
    let live: string[];
    if (mode === 'cluster') {
      if (!this.clusterName) throw new ScriptFailure('CommandNotFoundException', 'ObjectNotFound', 'The term \'Get-Cluster\' is not recognized as a name of a cmdlet, function, script file, or executable program.');
      out.via = this.reach(a.seeds);
      out.cluster = this.clusterPart();
      live = [...this.nodes.values()].filter((n) => n.state === 'Up' || n.state === 'Paused').map((n) => n.name);
    } else {
      live = (Array.isArray(a.hosts) ? a.hosts : []).map(String);
    }
    const shares = (Array.isArray(a.shares) ? a.shares : []).map(String);
    const hosts: Record<string, unknown> = {};
    for (const h of live) {
      const n = this.nodes.get(h);
      if (!n || !n.reachable || n.state === 'Down') {
        hosts[h] = { ok: false, error: `Connecting to remote server ${h} failed with the following error message : The WinRM client cannot process the request because the server name cannot be resolved.` };
        continue;
      }
      hosts[h] = { ok: true, data: this.hostPart(n, shares) };
    }
    out.hosts = hosts;
    return out;
  }

  private clusterPart(): unknown {
    const nodes = [...this.nodes.values()].map((n, i) => ({ name: n.name, id: String(i + 1), state: n.state, status: n.status, drainStatus: n.drainStatus }));
    const groups = [...this.groups.values()].map((g) => {
      const vm = this.vms.get(g.vmId) as SimVm;
      return {
        name: g.name,
        id: g.id,
        owner: g.owner,
        state: g.state,
        priority: g.priority,
        antiAffinity: [...g.antiAffinity],
        failoverThreshold: g.failoverThreshold,
        failoverPeriodHours: g.failoverPeriodHours,
        persistentState: g.persistentState,
        vmId: g.vmId,
        vmState: vm.runningOn ? '2' : '3',
        startMemoryMB: vm.memoryGiB * 1024,
      };
    });
    const csvs = this.csvs.map((c) => ({ name: c.name, id: c.id, owner: c.owner, state: c.state, paths: [c.path], sizeBytes: c.sizeGiB * GiB, freeBytes: c.freeGiB * GiB }));
    const csvStates = this.csvs.flatMap((c) =>
      [...c.perNode].map(([node, state]) => ({
        name: c.name,
        node,
        state,
        fileSystemReason: state === 'FileSystemRedirected' ? 'UserRequest' : 'NotFileSystemRedirected',
        blockReason: state === 'BlockRedirected' ? 'NoDiskConnectivity' : 'NotBlockRedirected',
      })),
    );
    return { name: this.clusterName, nodes, groups, csvs, csvStates };
  }

  private hostPart(n: SimNode, shares: string[]): unknown {
    const vms = [...this.vms.values()]
      .filter((v) => v.registrations.includes(n.name))
      .map((v) => {
        const running = v.runningOn === n.name;
        const state = running ? v.state : v.state === 'Running' || v.state === 'Starting' ? 'Off' : v.state;
        return {
          id: v.id,
          name: v.name,
          state,
          cpu: v.cpu,
          memoryAssignedBytes: running ? v.memoryGiB * GiB : 0,
          memoryStartupBytes: v.memoryGiB * GiB,
          dynamicMemory: false,
          path: v.path,
          clustered: v.clustered,
          disks: [`${v.path}\\Virtual Hard Disks\\${v.name.replace(/[\\/:*?"<>|\n\r]/g, '_')}.vhdx`],
        };
      });
    const replication = [...this.vms.values()]
      .filter((v) => v.replication && v.runningOn === n.name)
      .map((v) => {
        const r = v.replication as NonNullable<SimVm['replication']>;
        return { vmId: v.id, state: r.state, health: r.health, replicaServer: r.replicaServer, lastReplication: r.lastAt === null ? null : new Date(r.lastAt).toISOString() };
      });
    const shareAccess = shares.map((s) => ({ path: s, reachable: this.shares.has(s) && !(this.shares.get(s) as Set<string>).has(n.name) }));
    return { cpu: n.cpu, memoryBytes: n.memoryGiB * GiB, vms, replication, shares: shareAccess };
  }

  private migrate(a: Record<string, unknown>, pid: number): unknown {
    const to = text(a.to);
    if (a.clustered) {
      const via = this.reach(a.seeds);
      const g = this.groups.get(text(a.group));
      if (!g) throw vigilError('VigilUnknownVm', 'ObjectNotFound', 'no cluster role with that name');
      if (g.vmId !== text(a.vmId).toLowerCase()) throw vigilError('VigilUnknownVm', 'ObjectNotFound', 'the cluster role holds another VM than the one asked for');
      if (!this.nodes.has(to)) throw vigilError('VigilUnknownHost', 'ObjectNotFound', 'no cluster node with that name');
      const from = g.owner;
      const job = this.startJob(pid, via, this.timings.liveMigrationMs, () => {
        const target = this.node(to);
        const vm = this.vms.get(g.vmId) as SimVm;
        if (target.state !== 'Up') throw new Error(`The requested operation cannot be completed because the node '${to}' is not in the Up state.`);
        if (g.owner !== from || (vm.runningOn !== null && vm.runningOn !== from)) throw new Error('The role moved while it was being migrated.');
        if (vm.runningOn) this.moveRunning(vm, to, 'migrate');
        g.owner = to;
        vm.registrations = [to];
      });
      return { jobNode: via, jobId: job.id, from };
    }
    const from = text(a.from);
    const vm = this.vms.get(text(a.vmId).toLowerCase());
    const src = this.nodes.get(from);
    if (!src || !src.reachable || src.state === 'Down') throw new ScriptFailure('PSSessionOpenFailed', 'OpenError', `Connecting to remote server ${from} failed with the following error message : WinRM cannot complete the operation.`);
    if (!vm || !vm.registrations.includes(from)) throw vigilError('VigilUnknownVm', 'ObjectNotFound', 'no VM with that id on this host');
    const job = this.startJob(pid, from, this.timings.liveMigrationMs, () => {
      const target = this.nodes.get(to);
      if (!target || target.state === 'Down' || !target.reachable) throw new Error(`Virtual machine migration operation failed at migration source. Failed to establish a connection with host '${to}'.`);
      if (vm.runningOn && vm.runningOn !== from) throw new Error('The virtual machine is not on the source host.');
      if (vm.runningOn) this.moveRunning(vm, to, 'migrate');
      vm.registrations = [to, ...vm.registrations.filter((h) => h !== from && h !== to)];
    });
    return { jobNode: from, jobId: job.id, from };
  }

  private drain(a: Record<string, unknown>): unknown {
    const via = this.reach(a.seeds);
    const n = this.nodes.get(text(a.node));
    if (!n) throw vigilError('VigilUnknownHost', 'ObjectNotFound', 'no cluster node with that name');
    if (n.state !== 'Up' && n.state !== 'Paused') throw vigilError('VigilRefused', 'InvalidOperation', `the node is ${n.state}, not Up`);
    n.state = 'Paused';
    n.drainStatus = 'InProgress';
    const roles = [...this.groups.values()].filter((g) => g.owner === n.name).sort((x, y) => y.priority - x.priority || (x.name < y.name ? -1 : 1));
    roles.forEach((g, i) => {
      this.schedule(this.timings.drainPerRoleMs * (i + 1), () => {
        if (n.drainStatus !== 'InProgress' || g.owner !== n.name) return;
        const target = this.leastLoaded(n.name);
        if (!target) {
          n.drainStatus = 'Failed';
          return;
        }
        const vm = this.vms.get(g.vmId) as SimVm;
        if (vm.runningOn) this.moveRunning(vm, target, 'migrate');
        g.owner = target;
        vm.registrations = [target];
      });
    });
    this.schedule(this.timings.drainPerRoleMs * (roles.length + 1), () => {
      if (n.drainStatus === 'InProgress') n.drainStatus = [...this.groups.values()].some((g) => g.owner === n.name && g.state !== 'Offline') ? 'Failed' : 'Completed';
    });
    return { via, state: n.state, drainStatus: n.drainStatus };
  }

  private resume(a: Record<string, unknown>): unknown {
    const via = this.reach(a.seeds);
    const n = this.nodes.get(text(a.node));
    if (!n) throw vigilError('VigilUnknownHost', 'ObjectNotFound', 'no cluster node with that name');
    if (n.state === 'Paused') {
      n.state = 'Up';
      n.drainStatus = 'NotInitiated';
    }
    return { via, state: n.state };
  }

  private startRole(a: Record<string, unknown>, pid: number): unknown {
    const via = this.reach(a.seeds);
    const g = this.groups.get(text(a.group));
    if (!g) throw vigilError('VigilUnknownVm', 'ObjectNotFound', 'no cluster role with that name');
    if (g.vmId !== text(a.vmId).toLowerCase()) throw vigilError('VigilUnknownVm', 'ObjectNotFound', 'the cluster role holds another VM than the one asked for');
    const to = text(a.to);
    if (!this.nodes.has(to)) throw vigilError('VigilUnknownHost', 'ObjectNotFound', 'no cluster node with that name');
    if (g.state === 'Online' || g.state === 'PartialOnline') throw vigilError('VigilRefused', 'InvalidOperation', `the role is already online on ${g.owner}`);
    const from = g.owner;
    const state = g.state;
    const job = this.startJob(pid, via, this.timings.startMs, () => {
      const target = this.node(to);
      if (target.state !== 'Up') throw new Error(`The operation failed because the node '${to}' is not Up.`);
      const vm = this.vms.get(g.vmId) as SimVm;
      g.owner = to;
      vm.registrations = [to];
      this.start(vm, to);
      g.state = 'Online';
      g.persistentState = 1;
    });
    return { jobNode: via, jobId: job.id, from, state };
  }

  private registerVm(a: Record<string, unknown>, pid: number): unknown {
    const to = text(a.to);
    const n = this.nodes.get(to);
    if (!n || !n.reachable || n.state === 'Down') throw new ScriptFailure('PSSessionOpenFailed', 'OpenError', `Connecting to remote server ${to} failed with the following error message : WinRM cannot complete the operation.`);
    const vm = this.vms.get(text(a.vmId).toLowerCase());
    let registered = false;
    if (!vm || !vm.registrations.includes(to)) {
      const configPath = text(a.configPath);
      const share = [...this.shares.keys()].find((s) => configPath.toLowerCase().startsWith(`${s.toLowerCase()}\\`));
      const readable = vm && share !== undefined && !(this.shares.get(share) as Set<string>).has(to) && configPath.toLowerCase() === `${vm.path}\\Virtual Machines\\${vm.id.toUpperCase()}.vmcx`.toLowerCase();
      if (!readable) throw vigilError('VigilConfigUnreachable', 'ObjectNotFound', 'this host cannot read the VM configuration file');
      vm.registrations.push(to);
      registered = true;
      this.log('register', vm.name, to);
    }
    const v = vm;
    if (v.runningOn === to) throw vigilError('VigilRefused', 'InvalidOperation', 'the VM already runs on this host');
    const job = this.startJob(pid, to, this.timings.startMs, () => this.start(v, to));
    return { jobNode: to, jobId: job.id, registered };
  }

  private taskStatus(a: Record<string, unknown>, pid: number): unknown {
    const out: Record<string, unknown> = {};
    const jobRef = a.job as { node?: string; id?: string } | undefined;
    if (jobRef) {
      const job = this.jobs.get(text(jobRef.id));
      out.job = job && job.pid === pid && job.node === jobRef.node ? { found: true, state: job.state, reason: job.reason } : { found: false };
    }
    if (a.group || a.node) {
      this.reach(a.seeds);
      if (a.group) {
        const g = this.groups.get(text(a.group));
        out.group = g ? { found: true, owner: g.owner, state: g.state } : { found: false };
      }
      if (a.node) {
        const n = this.nodes.get(text(a.node));
        out.node = n
          ? { found: true, state: n.state, status: n.status, drainStatus: n.drainStatus, roles: [...this.groups.values()].filter((g) => g.owner === n.name && g.state !== 'Offline').map((g) => g.name) }
          : { found: false };
      }
    }
    const vmProbe = a.vm as { id?: string; hosts?: string[] } | undefined;
    if (vmProbe) {
      const seen: Record<string, unknown> = {};
      const vm = this.vms.get(text(vmProbe.id).toLowerCase());
      for (const h of vmProbe.hosts ?? []) {
        const n = this.nodes.get(h);
        if (!n || !n.reachable || n.state === 'Down') seen[h] = { found: null, error: `Connecting to remote server ${h} failed.` };
        else if (vm && vm.registrations.includes(h)) seen[h] = { found: true, state: vm.runningOn === h ? vm.state : 'Off', status: 'Operating normally' };
        else seen[h] = { found: false };
      }
      out.vm = seen;
    }
    return out;
  }

  // ---- the platform's own behaviour ----

  private failOver(deadNode: string): void {
    const n = this.node(deadNode);
    if (n.state !== 'Down') return;
    const now = this.now();
    const roles = [...this.groups.values()].filter((g) => g.owner === deadNode && g.state !== 'Offline').sort((x, y) => y.priority - x.priority || (x.name < y.name ? -1 : 1));
    for (const g of roles) {
      g.failovers = g.failovers.filter((t) => now - t < g.failoverPeriodHours * 3_600_000);
      const target = this.leastLoaded(deadNode);
      if (g.failovers.length >= g.failoverThreshold || !target || g.priority === 0) {
        // The cluster gives up: the role stays Failed where it was.
        g.state = 'Failed';
        this.log('role-failed', g.name, deadNode);
        continue;
      }
      g.failovers.push(now);
      g.owner = target;
      const vm = this.vms.get(g.vmId) as SimVm;
      vm.registrations = [target];
      this.start(vm, target);
      g.state = 'Online';
      this.log('cluster-failover', g.name, target);
    }
  }

  /** The Up node with the fewest online roles, ties by name (the cluster's own simple placement). */
  private leastLoaded(except: string): string | undefined {
    const up = [...this.nodes.values()].filter((x) => x.state === 'Up' && x.name !== except && x.status === 'Normal');
    const load = (name: string) => [...this.groups.values()].filter((g) => g.owner === name && g.state === 'Online').length;
    up.sort((x, y) => load(x.name) - load(y.name) || (x.name < y.name ? -1 : 1));
    return up[0]?.name;
  }

  private start(vm: SimVm, host: string): void {
    if (vm.runningOn !== null && vm.runningOn !== host) {
      this.log('start', vm.name, host, `already running on ${vm.runningOn}`);
      throw new Error(`'${vm.name}' failed to start: the virtual machine's files are in use by another host.`);
    }
    vm.runningOn = host;
    vm.state = 'Running';
    this.log('start', vm.name, host);
  }

  private moveRunning(vm: SimVm, to: string, op: string): void {
    vm.runningOn = to;
    this.log(op, vm.name, to);
  }

  private startJob(pid: number, node: string, ms: number, body: () => void): SimJob {
    const job: SimJob = { id: guidFor(`job:${this.seq}:${pid}:${this.now()}`), pid, node, state: 'Running', reason: null };
    this.jobs.set(job.id, job);
    this.schedule(ms, () => {
      try {
        body();
        job.state = 'Completed';
      } catch (e) {
        job.state = 'Failed';
        job.reason = (e as Error).message;
      }
    });
    return job;
  }

  private schedule(ms: number, run: () => void): void {
    this.events.push({ at: this.now() + ms, seq: this.seq++, run });
  }

  private node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  private group(name: string): SimGroup {
    const g = this.groups.get(name);
    if (!g) throw new Error(`no role ${name}`);
    return g;
  }
}

/** A script input value as text (the real scripts cast with [string]). */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function vigilError(id: string, category: string, message: string): ScriptFailure {
  return new ScriptFailure(id, category, message, 'System.Management.Automation.RemoteException');
}

/** JSON as Write-VigilJson prints it: compact, non-ASCII as \u escapes. */
export function psJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
