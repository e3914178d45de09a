/**
 * The simulated lab: a fleet of hosts, VMs and datastores with a manager's
 * API, a BMC per host, and faults. It keeps two views apart, as a real
 * estate does: the truth (which VMs really run where) and what the manager
 * reports (a host that stopped answering keeps its VMs' last known state).
 * Fencing, partitions and double starts are therefore observable: a VM
 * started while it still runs is recorded in the operation log as an error.
 *
 * Time: operations are tasks that end at a clock time (a live migration's
 * length grows with the VM's memory). The lab has no timers; every call
 * first settles the tasks whose end has passed, in order, so the lab is the
 * same under a real, scaled or fake clock.
 *
 * Host conditions:
 * | condition    | VMs keep running | manager sees it | controller's probe answers |
 * |--------------|------------------|-----------------|----------------------------|
 * | failed       | no (they stop)   | no              | no                         |
 * | isolated     | yes              | yes             | no                         |
 * | partitioned  | yes              | no              | no                         |
 * | powered off  | no               | no              | no                         |
 */
import type { Clock } from '../../src/clock/clock.js';
import type { ClusterSnapshot, HostState, PowerState } from '../../src/model/inventory.js';
import type { InventoryFile } from '../../src/inventory/schema.js';

export interface LabTimings {
  /** Set-up and switch-over of a live migration. */
  readonly migrationBaseMs: number;
  /** Memory copy rate of a live migration (about 1 GiB/s on 10 GbE). */
  readonly migrationGiBPerSecond: number;
  readonly powerOnBaseMs: number;
  readonly powerOnMsPerGiB: number;
  readonly powerOffMs: number;
  readonly maintenanceMs: number;
  /** A BMC's ForceOff until the host is really off (PowerState reads PoweringOff meanwhile). */
  readonly powerOffHostMs: number;
}

export const DEFAULT_TIMINGS: LabTimings = {
  migrationBaseMs: 2_000,
  migrationGiBPerSecond: 1,
  powerOnBaseMs: 3_000,
  powerOnMsPerGiB: 40,
  powerOffMs: 1_000,
  maintenanceMs: 2_000,
  powerOffHostMs: 3_000,
};

export interface LabOptions {
  readonly timings?: Partial<LabTimings>;
}

export interface LabLogEntry {
  readonly t: number;
  readonly op: string;
  readonly cluster?: string;
  readonly vm?: string;
  readonly host?: string;
  readonly from?: string;
  readonly to?: string;
  readonly datastore?: string;
  readonly error?: string;
  /** Set on the errors that break a safety rule: a VM started while it still runs, or on a dead host. */
  readonly violation?: true;
  /** Notes on injected faults. */
  readonly detail?: string;
}

export type LabTaskState = 'running' | 'success' | 'error';

export interface LabTaskInfo {
  readonly id: string;
  readonly op: string;
  readonly state: LabTaskState;
  readonly submittedAt: number;
  readonly endsAt: number;
  readonly error?: string;
}

/** A refusal by the lab's API, with the HTTP status its server answers. */
export class LabError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

interface LabHost {
  readonly name: string;
  readonly id: string;
  readonly cluster: string;
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly labels: Record<string, string>;
  admin: 'connected' | 'disconnected' | 'maintenance';
  /** The BMC's power state. */
  powered: boolean;
  crashed: boolean;
  isolated: boolean;
  partitioned: boolean;
}

interface LabVm {
  readonly name: string;
  readonly id: string;
  readonly cluster: string;
  host: string;
  readonly cpu: number;
  readonly memoryGiB: number;
  power: 'on' | 'off' | 'suspended';
  /** Replaced when the VM starts from its replica (it then runs on the replica's disks). */
  datastores: readonly string[];
  readonly labels: Record<string, string>;
  readonly managedBy?: string;
  /** An asynchronous replica on another host, synced every `everyMs` while both hosts are up. */
  replication?: LabReplication;
  /** What the manager last saw, kept while the VM's host is out of its view. */
  reported?: PowerState;
  busyWith?: string;
}

interface LabReplication {
  readonly target: string;
  readonly everyMs: number;
  /** The datastore on the target that holds the replica's disks. */
  readonly datastore?: string;
  /** Clock time of the last completed sync. */
  lastSyncAt: number;
  /** Suspended by a fault (`suspend-replication`): no syncs until resumed. */
  suspended: boolean;
  /** The last time it was seen unable to sync (suspended, VM not running, a host down): no sync is counted before it. */
  blockedAt?: number;
}

interface LabDatastore {
  readonly name: string;
  readonly id: string;
  readonly cluster: string;
  readonly capacityGiB: number | null;
  /** Free space at `freeAt`; with `fillGiBPerHour`, it falls from there as lab time passes. */
  freeGiB: number | null;
  freeAt: number;
  fillGiBPerHour: number;
  readonly hosts: readonly string[];
  readonly type?: string;
  lostOn: Set<string>;
  /** Hosts that reach it only degraded (a CSV in redirected access, a storage inactive on a node). */
  degradedOn: Set<string>;
  lostEverywhere: boolean;
}

interface LabTask {
  readonly id: string;
  readonly op: string;
  readonly seq: number;
  readonly submittedAt: number;
  readonly endsAt: number;
  state: LabTaskState;
  error?: string;
  /** Who the task is about, for its log entries. */
  readonly context: Omit<LabLogEntry, 't' | 'op'>;
  /** Applies the operation's effect at its end; returns an error message when it cannot. */
  readonly complete: (at: number) => string | undefined;
}

interface TaskSubject {
  readonly vm?: LabVm;
  readonly host?: string;
  readonly from?: string;
  readonly to?: string;
  readonly cluster?: string;
}

export interface ApiFaults {
  /** The next N API calls fail with HTTP 503. */
  readonly failNext?: number;
  /** Every API call takes this much longer. */
  readonly latencyMs?: number;
}

export class Lab {
  private readonly hosts = new Map<string, LabHost>();
  private readonly vms = new Map<string, LabVm>();
  private readonly datastores = new Map<string, LabDatastore>();
  private readonly clusters: string[] = [];
  private readonly tasks = new Map<string, LabTask>();
  private readonly entries: LabLogEntry[] = [];
  private readonly timings: LabTimings;
  private taskSeq = 0;
  private failNext = 0;
  /** Starts of these VMs that will fail, as a VM that cannot boot (a bad disk, no memory reservation) does. */
  private readonly failingStarts = new Map<string, number>();
  /** Migrations of these VMs that will fail half-way, as a vMotion that loses its network does. */
  private readonly failingMigrations = new Map<string, number>();
  /** Hosts a BMC was told to power off, until the power drops. */
  private readonly poweringOff = new Set<string>();
  private latencyMs = 0;
  /** The lab's start: an inventory's `lastSync` counts back from here. */
  private readonly startedAt: number;

  constructor(
    inventory: InventoryFile,
    private readonly clock: Clock,
    options: LabOptions = {},
  ) {
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.startedAt = clock.now();
    for (const c of inventory.clusters) {
      this.clusters.push(c.name);
      for (const h of c.hosts) {
        this.hosts.set(h.name, {
          name: h.name,
          id: h.id ?? h.name,
          cluster: c.name,
          cpu: h.cpu,
          memoryGiB: h.memoryGiB,
          labels: { ...h.labels },
          admin: h.state === 'maintenance' ? 'maintenance' : h.state === 'disconnected' ? 'disconnected' : 'connected',
          powered: true,
          crashed: h.state === 'notResponding',
          isolated: false,
          partitioned: false,
        });
      }
      for (const d of c.datastores) {
        this.datastores.set(d.name, {
          name: d.name,
          id: d.id ?? d.name,
          cluster: c.name,
          capacityGiB: d.capacityGiB,
          freeGiB: d.freeGiB,
          freeAt: this.startedAt,
          fillGiBPerHour: 0,
          hosts: [...d.hosts],
          ...(d.type ? { type: d.type } : {}),
          lostOn: new Set(d.inaccessibleOn),
          degradedOn: new Set(d.degradedOn),
          lostEverywhere: !d.accessible,
        });
      }
      for (const v of c.vms) {
        const host = this.hosts.get(v.host);
        const power = v.power === 'on' || v.power === 'suspended' ? v.power : 'off';
        this.vms.set(v.name, {
          name: v.name,
          id: v.id ?? v.name,
          cluster: c.name,
          host: v.host,
          cpu: v.cpu,
          memoryGiB: v.memoryGiB,
          // A VM listed as running on a dead host is the manager's stale view: it is not really running.
          power: host && this.alive(host) ? power : 'off',
          datastores: [...v.datastores],
          labels: { ...v.labels },
          ...(v.managedBy ? { managedBy: v.managedBy } : {}),
          ...(v.replication
            ? {
                replication: {
                  target: v.replication.target,
                  everyMs: v.replication.every,
                  ...(v.replication.datastore ? { datastore: v.replication.datastore } : {}),
                  lastSyncAt: this.startedAt - v.replication.lastSync,
                  suspended: false,
                },
              }
            : {}),
          ...(host && !this.inView(host) ? { reported: v.power } : {}),
        });
      }
    }
  }

  // ----- the manager's view ---------------------------------------------------

  clusterNames(): string[] {
    return [...this.clusters];
  }

  snapshot(cluster: string): ClusterSnapshot {
    this.settle();
    if (!this.clusters.includes(cluster)) throw new LabError(404, 'unknown-cluster', `unknown cluster "${cluster}"`);
    const hosts = [...this.hosts.values()].filter((h) => h.cluster === cluster);
    return {
      cluster,
      provider: 'sim',
      takenAt: this.clock.now(),
      hosts: hosts.map((h) => ({ name: h.name, id: h.id, cpu: h.cpu, memoryGiB: h.memoryGiB, labels: h.labels, state: this.managerState(h) })),
      vms: [...this.vms.values()]
        .filter((v) => v.cluster === cluster)
        .map((v) => ({
          name: v.name,
          id: v.id,
          host: v.host,
          cpu: v.cpu,
          memoryGiB: v.memoryGiB,
          power: this.reportedPower(v),
          datastores: v.datastores,
          labels: v.labels,
          ...(v.managedBy ? { managedBy: v.managedBy } : {}),
          ...(v.replication ? { replication: this.reportedReplication(v.replication) } : {}),
        })),
      datastores: [...this.datastores.values()]
        .filter((d) => d.cluster === cluster)
        .map((d) => {
          const lost = d.lostEverywhere ? [...d.hosts] : d.hosts.filter((h) => d.lostOn.has(h));
          const degraded = d.hosts.filter((h) => d.degradedOn.has(h) && !lost.includes(h));
          return {
            name: d.name,
            id: d.id,
            capacityGiB: d.capacityGiB,
            freeGiB: this.freeNow(d),
            hosts: d.hosts,
            accessible: d.hosts.length === 0 ? !d.lostEverywhere : lost.length < d.hosts.length,
            inaccessibleOn: lost,
            ...(degraded.length ? { degradedOn: degraded } : {}),
            ...(d.type ? { type: d.type } : {}),
          };
        }),
    };
  }

  /** The controller's own probe of a host's management interface. */
  probe(hostName: string): boolean {
    this.settle();
    const h = this.host(hostName);
    return this.alive(h) && !h.isolated && !h.partitioned;
  }

  // ----- operations (the manager's API) -------------------------------------

  migrate(vmRef: string, toRef: string, live: boolean): LabTaskInfo {
    this.settle();
    const vm = this.vm(vmRef);
    const to = this.host(toRef);
    const from = this.host(vm.host);
    this.sameCluster(vm, to);
    this.notBusy(vm);
    if (!this.inView(from)) throw new LabError(409, 'host-not-responding', `host ${from.name} is not responding`);
    this.acceptsVms(to);
    if (to.name === from.name) throw new LabError(409, 'already-there', `${vm.name} already runs on ${to.name}`);
    if (live && vm.power !== 'on') throw new LabError(409, 'not-running', `${vm.name} is not running; a live migration needs a running VM`);
    this.reachesDatastores(vm, to);
    const duration = live ? this.timings.migrationBaseMs + (vm.memoryGiB / this.timings.migrationGiBPerSecond) * 1000 : this.timings.powerOffMs;
    const failing = this.failingMigrations.get(vm.name) ?? 0;
    if (failing > 0) {
      this.failingMigrations.set(vm.name, failing - 1);
      // Half-way through, the copy is abandoned: the VM keeps running where it was.
      return this.startTask('migrate', { vm, from: from.name, to: to.name }, duration / 2, () => `migration of ${vm.name} to ${to.name} failed half-way (injected fault); it still runs on ${from.name}`);
    }
    return this.startTask('migrate', { vm, from: from.name, to: to.name }, duration, (at) => {
      const src = this.host(vm.host);
      if (src.name !== from.name) return `${vm.name} is no longer on ${from.name}`;
      if (!this.inView(src)) return `source host ${src.name} failed during the migration`;
      if (!this.inView(to) || to.admin !== 'connected') return `target host ${to.name} became unavailable during the migration`;
      if (live && vm.power !== 'on') return `${vm.name} stopped during the migration`;
      vm.host = to.name;
      this.log({ t: at, op: 'migrate', cluster: vm.cluster, vm: vm.name, from: from.name, to: to.name });
      return undefined;
    });
  }

  /** Starts a VM on a host: how a failed host's VM comes back elsewhere (or a stopped one in place). */
  restart(vmRef: string, onRef: string): LabTaskInfo {
    this.settle();
    const vm = this.vm(vmRef);
    const on = this.host(onRef);
    this.sameCluster(vm, on);
    if (vm.busyWith) {
      // Refused, as a platform would; but a controller asking is one that lost track of its own start: logged for the tests.
      this.log({ t: this.clock.now(), op: 'start-refused', cluster: vm.cluster, vm: vm.name, host: on.name, error: `${vm.name} has an operation in progress (${vm.busyWith}): a second start was asked for` });
    }
    this.notBusy(vm);
    this.acceptsVms(on);
    // Starting a VM on its replica's host, which cannot reach its disks, starts it from the replica: its disks there, as of the last sync.
    const fromReplica = vm.replication && vm.replication.target === on.name && on.name !== vm.host && !this.canReach(vm.datastores, on) ? vm.replication : undefined;
    if (fromReplica) {
      if (fromReplica.datastore) this.reachesDatastores({ name: vm.name, datastores: [fromReplica.datastore] }, on);
    } else this.reachesDatastores(vm, on);
    const duration = this.timings.powerOnBaseMs + vm.memoryGiB * this.timings.powerOnMsPerGiB;
    return this.startTask('start', { vm, host: on.name }, duration, (at) => {
      const current = this.host(vm.host);
      if (this.alive(current) && vm.power === 'on') {
        return violation(`${vm.name} is already running on ${current.name}: starting it on ${on.name} would run it twice`);
      }
      if (!this.alive(on)) return violation(`host ${on.name} is down`);
      const failures = this.failingStarts.get(vm.name) ?? 0;
      if (failures > 0) {
        this.failingStarts.set(vm.name, failures - 1);
        return `${vm.name} failed to power on on ${on.name} (injected start failure)`;
      }
      const from = vm.host;
      vm.host = on.name;
      vm.power = 'on';
      delete vm.reported;
      if (fromReplica) {
        // The replica is now the VM; the old copy is stale, so there is no replica until a person sets one up again.
        vm.datastores = fromReplica.datastore ? [fromReplica.datastore] : [];
        delete vm.replication;
        this.log({ t: at, op: 'start', cluster: vm.cluster, vm: vm.name, host: on.name, detail: `from its replica, last synced ${Math.round((at - fromReplica.lastSyncAt) / 1000)}s before; its disks on ${from} are left behind` });
        return undefined;
      }
      this.log({ t: at, op: 'start', cluster: vm.cluster, vm: vm.name, host: on.name });
      return undefined;
    });
  }

  powerOff(vmRef: string): LabTaskInfo {
    this.settle();
    const vm = this.vm(vmRef);
    const host = this.host(vm.host);
    this.notBusy(vm);
    if (!this.inView(host)) throw new LabError(409, 'host-not-responding', `host ${host.name} is not responding`);
    return this.startTask('poweroff', { vm, host: host.name }, this.timings.powerOffMs, (at) => {
      if (!this.inView(host)) return `host ${host.name} stopped responding`;
      vm.power = 'off';
      this.log({ t: at, op: 'poweroff', cluster: vm.cluster, vm: vm.name, host: host.name });
      return undefined;
    });
  }

  setMaintenance(hostRef: string, on: boolean): LabTaskInfo {
    this.settle();
    const host = this.host(hostRef);
    if (!this.inView(host)) throw new LabError(409, 'host-not-responding', `host ${host.name} is not responding`);
    return this.startTask(on ? 'enter-maintenance' : 'exit-maintenance', { host: host.name, cluster: host.cluster }, this.timings.maintenanceMs, (at) => {
      if (!this.inView(host)) return `host ${host.name} stopped responding`;
      if (on) {
        const running = [...this.vms.values()].filter((v) => v.host === host.name && v.power === 'on');
        if (running.length) return `host ${host.name} still runs ${running.length} powered-on VM(s): ${running.map((v) => v.name).slice(0, 5).join(', ')}`;
      }
      host.admin = on ? 'maintenance' : 'connected';
      this.log({ t: at, op: on ? 'enter-maintenance' : 'exit-maintenance', cluster: host.cluster, host: host.name });
      return undefined;
    });
  }

  task(id: string): LabTaskInfo {
    this.settle();
    const t = this.tasks.get(id);
    if (!t) throw new LabError(404, 'unknown-task', `unknown task "${id}"`);
    return taskInfo(t);
  }

  // ----- faults ---------------------------------------------------------------

  failHost(name: string): void {
    this.settle();
    const h = this.host(name);
    this.leaveView(h, () => {
      h.crashed = true;
    });
    this.log({ t: this.clock.now(), op: 'fail-host', cluster: h.cluster, host: h.name });
  }

  /** The host is back: faults cleared, powered on. VMs that died with it stay off. */
  recoverHost(name: string): void {
    this.settle();
    const h = this.host(name);
    h.crashed = false;
    h.isolated = false;
    h.partitioned = false;
    h.powered = true;
    this.enterView(h);
    this.log({ t: this.clock.now(), op: 'recover-host', cluster: h.cluster, host: h.name });
  }

  isolateHost(name: string): void {
    this.settle();
    const h = this.host(name);
    h.isolated = true;
    this.log({ t: this.clock.now(), op: 'isolate-host', cluster: h.cluster, host: h.name });
  }

  /** The dangerous case: the manager and the controller lose the host, its VMs keep running. */
  partitionHost(name: string): void {
    this.settle();
    const h = this.host(name);
    this.leaveView(h, () => {
      h.partitioned = true;
    });
    this.log({ t: this.clock.now(), op: 'partition-host', cluster: h.cluster, host: h.name });
  }

  /**
   * The datastore is lost on one host (or every host). With `stopVms`, the
   * running VMs there that use it stop, as a permanent device loss kills
   * them; without, they hang on and keep running, as in an all-paths-down.
   */
  failDatastore(name: string, hostName?: string, stopVms = false): void {
    this.settle();
    const d = this.datastore(name);
    if (hostName === undefined) d.lostEverywhere = true;
    else {
      const h = this.host(hostName);
      if (!d.hosts.includes(h.name)) throw new LabError(409, 'not-mounted', `datastore ${d.name} is not mounted on ${h.name}`);
      d.lostOn.add(h.name);
    }
    const t = this.clock.now();
    this.log({ t, op: 'fail-datastore', cluster: d.cluster, datastore: d.name, ...(hostName ? { host: hostName } : {}), ...(stopVms ? { detail: 'its VMs there stop' } : {}) });
    if (!stopVms) return;
    for (const v of this.vms.values()) {
      if (v.power !== 'on' || !v.datastores.includes(d.name) || (hostName !== undefined && v.host !== hostName) || !this.running(v)) continue;
      v.power = 'off';
      this.log({ t, op: 'vm-stopped', cluster: v.cluster, vm: v.name, host: v.host, datastore: d.name, detail: 'its datastore is gone' });
    }
  }

  recoverDatastore(name: string, hostName?: string): void {
    this.settle();
    const d = this.datastore(name);
    if (hostName === undefined) {
      d.lostEverywhere = false;
      d.lostOn.clear();
    } else d.lostOn.delete(this.host(hostName).name);
    this.log({ t: this.clock.now(), op: 'recover-datastore', cluster: d.cluster, datastore: d.name, ...(hostName ? { host: hostName } : {}) });
  }

  /**
   * Sets a datastore's free space now and, optionally, a rate at which it
   * falls from there (GiB per hour of lab time; 0 stops it).
   */
  fillDatastore(name: string, change: { freeGiB?: number; fillGiBPerHour?: number }): void {
    this.settle();
    const d = this.datastore(name);
    const now = this.clock.now();
    const free = change.freeGiB ?? this.freeNow(d);
    if (free !== null && (free < 0 || (d.capacityGiB !== null && free > d.capacityGiB))) throw new LabError(400, 'bad-free', `freeGiB must be between 0 and ${d.capacityGiB ?? 'the capacity'}`);
    if (change.fillGiBPerHour !== undefined && free === null) throw new LabError(409, 'unknown-free', `datastore ${d.name} has no free-space figure to fill from`);
    d.freeGiB = free;
    d.freeAt = now;
    if (change.fillGiBPerHour !== undefined) d.fillGiBPerHour = change.fillGiBPerHour;
    this.log({ t: now, op: 'fill-datastore', cluster: d.cluster, datastore: d.name, detail: `freeGiB=${free ?? 'unknown'} fillGiBPerHour=${d.fillGiBPerHour}` });
  }

  /** A host reaches the datastore only degraded (`on: false` clears it). */
  degradeDatastore(name: string, hostName: string, on = true): void {
    this.settle();
    const d = this.datastore(name);
    const h = this.host(hostName);
    if (!d.hosts.includes(h.name)) throw new LabError(409, 'not-mounted', `datastore ${d.name} is not mounted on ${h.name}`);
    if (on) d.degradedOn.add(h.name);
    else d.degradedOn.delete(h.name);
    this.log({ t: this.clock.now(), op: on ? 'degrade-datastore' : 'undegrade-datastore', cluster: d.cluster, datastore: d.name, host: h.name });
  }

  /** Stops (or resumes) a VM's replication: its replica ages until resumed. */
  suspendReplication(vmRef: string, suspended = true): void {
    this.settle();
    const vm = this.vm(vmRef);
    if (!vm.replication) throw new LabError(409, 'no-replica', `${vm.name} has no replica`);
    vm.replication.suspended = suspended;
    this.log({ t: this.clock.now(), op: suspended ? 'suspend-replication' : 'resume-replication', cluster: vm.cluster, vm: vm.name });
  }

  /** The next `count` starts of the VM fail at their end. */
  failStarts(vmRef: string, count: number): void {
    this.settle();
    const vm = this.vm(vmRef);
    this.failingStarts.set(vm.name, Math.max(0, Math.floor(count)));
    this.log({ t: this.clock.now(), op: 'fail-starts', cluster: vm.cluster, vm: vm.name, detail: `next ${count} start(s) will fail` });
  }

  /** The next `count` migrations of the VM fail half-way; the VM stays on its host. */
  failMigrations(vmRef: string, count: number): void {
    this.settle();
    const vm = this.vm(vmRef);
    this.failingMigrations.set(vm.name, Math.max(0, Math.floor(count)));
    this.log({ t: this.clock.now(), op: 'fail-migrations', cluster: vm.cluster, vm: vm.name, detail: `next ${count} migration(s) will fail half-way` });
  }

  setApiFaults(faults: ApiFaults): void {
    if (faults.failNext !== undefined) this.failNext = Math.max(0, Math.floor(faults.failNext));
    if (faults.latencyMs !== undefined) this.latencyMs = Math.max(0, faults.latencyMs);
    this.log({ t: this.clock.now(), op: 'api-faults', detail: `failNext=${this.failNext} latencyMs=${this.latencyMs}` });
  }

  /**
   * Every API call passes here first: returns the latency to add, or
   * throws the injected error.
   */
  apiGate(): number {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new LabError(503, 'injected', 'lab: injected API error (service unavailable)');
    }
    return this.latencyMs;
  }

  // ----- the BMC (Redfish) ----------------------------------------------------

  bmcPowerState(name: string): 'On' | 'Off' | 'PoweringOff' {
    this.settle();
    const h = this.host(name);
    if (h.powered && this.poweringOff.has(h.name)) return 'PoweringOff';
    return h.powered ? 'On' : 'Off';
  }

  /** ComputerSystem.Reset. ForceOff really stops the host's VMs: that is what makes fencing safe. */
  bmcReset(name: string, type: string): void {
    this.settle();
    const h = this.host(name);
    const t = this.clock.now();
    switch (type) {
      case 'ForceOff':
      case 'GracefulShutdown':
      case 'PushPowerButton':
        if (type === 'PushPowerButton' && !h.powered) return this.bmcReset(name, 'On');
        if (!h.powered || this.poweringOff.has(h.name)) return;
        // Power does not drop the instant a BMC is asked: the host runs on for powerOffHostMs.
        this.poweringOff.add(h.name);
        this.startTask('power-off-host', { host: h.name, cluster: h.cluster }, this.timings.powerOffHostMs, (at) => {
          this.poweringOff.delete(h.name);
          this.powerOffNow(h, at);
          return undefined;
        });
        return;
      case 'On':
        if (h.powered) return;
        h.powered = true;
        h.crashed = false;
        this.enterView(h);
        this.log({ t, op: 'power-on-host', cluster: h.cluster, host: h.name });
        return;
      case 'ForceRestart':
      case 'GracefulRestart':
        if (h.powered) this.powerOffNow(h, t);
        this.bmcReset(name, 'On');
        return;
      default:
        throw new LabError(400, 'bad-reset-type', `unsupported ResetType "${type}"`);
    }
  }

  private powerOffNow(h: LabHost, at: number): void {
    if (!h.powered) return;
    this.leaveView(h, () => {
      h.powered = false;
    });
    this.log({ t: at, op: 'power-off-host', cluster: h.cluster, host: h.name });
  }

  // ----- the truth ------------------------------------------------------------

  log(entry?: LabLogEntry): readonly LabLogEntry[] {
    if (entry) {
      this.entries.push(entry);
      return this.entries;
    }
    this.settle();
    return this.entries;
  }

  /** The lab's current truth in the inventory-file shape, with runtime fields. */
  inventory(): InventoryFile {
    this.settle();
    return {
      clusters: this.clusters.map((c) => ({
        name: c,
        hosts: [...this.hosts.values()]
          .filter((h) => h.cluster === c)
          .map((h) => ({
            name: h.name,
            id: h.id,
            cpu: h.cpu,
            memoryGiB: h.memoryGiB,
            labels: h.labels,
            state: this.managerState(h),
            runtime: { power: h.powered ? 'on' : 'off', alive: this.alive(h), crashed: h.crashed, isolated: h.isolated, partitioned: h.partitioned },
          })),
        datastores: [...this.datastores.values()]
          .filter((d) => d.cluster === c)
          .map((d) => ({
            name: d.name,
            id: d.id,
            capacityGiB: d.capacityGiB,
            freeGiB: this.freeNow(d),
            hosts: [...d.hosts],
            accessible: !d.lostEverywhere,
            inaccessibleOn: d.lostEverywhere ? [] : [...d.lostOn],
            degradedOn: [...d.degradedOn],
            ...(d.type ? { type: d.type } : {}),
            runtime: { lostEverywhere: d.lostEverywhere, fillGiBPerHour: d.fillGiBPerHour },
          })),
        vms: [...this.vms.values()]
          .filter((v) => v.cluster === c)
          .map((v) => ({
            name: v.name,
            id: v.id,
            host: v.host,
            cpu: v.cpu,
            memoryGiB: v.memoryGiB,
            power: v.power,
            datastores: [...v.datastores],
            labels: v.labels,
            ...(v.managedBy ? { managedBy: v.managedBy } : {}),
            ...(v.replication
              ? {
                  replication: {
                    target: v.replication.target,
                    every: v.replication.everyMs,
                    lastSync: Math.max(0, this.clock.now() - v.replication.lastSyncAt),
                    ...(v.replication.datastore ? { datastore: v.replication.datastore } : {}),
                  },
                }
              : {}),
            runtime: { running: this.running(v), reportedPower: this.reportedPower(v), ...(v.replication ? { replicationSuspended: v.replication.suspended } : {}) },
          })),
      })),
    };
  }

  /** Names of the VMs that really run now, with their host. */
  runningVms(): Map<string, string> {
    this.settle();
    return new Map([...this.vms.values()].filter((v) => this.running(v)).map((v) => [v.name, v.host]));
  }

  hasHost(name: string): boolean {
    return this.hosts.has(name) || [...this.hosts.values()].some((h) => h.id === name);
  }

  // ----- internals ------------------------------------------------------------

  private freeNow(d: LabDatastore): number | null {
    if (d.freeGiB === null || d.fillGiBPerHour === 0) return d.freeGiB;
    const free = d.freeGiB - (d.fillGiBPerHour * (this.clock.now() - d.freeAt)) / 3_600_000;
    const bounded = Math.max(0, d.capacityGiB === null ? free : Math.min(d.capacityGiB, free));
    return Math.round(bounded * 1000) / 1000;
  }

  /** What the manager says of a replica: a suspended one is "suspended"; one whose target is out of view is failing. */
  private reportedReplication(r: LabReplication): { target: string; lastSyncAt: number; state: string; healthy: boolean } {
    const target = this.hosts.get(r.target);
    const reachable = !!target && this.inView(target);
    return { target: r.target, lastSyncAt: r.lastSyncAt, state: r.suspended ? 'suspended' : reachable ? 'ok' : 'error', healthy: !r.suspended && reachable };
  }

  /** Brings each replica's last sync up to `at`: a sync every interval while its VM runs and both hosts are up. */
  private syncReplicas(at: number): void {
    for (const v of this.vms.values()) {
      const r = v.replication;
      if (!r) continue;
      const target = this.hosts.get(r.target);
      if (r.suspended || !this.running(v) || !target || !this.alive(target) || target.partitioned) {
        r.blockedAt = at;
        continue;
      }
      // On the job's own schedule (every `everyMs` after the last sync), and only runs after the last time it could not sync.
      const latest = r.lastSyncAt + Math.floor((at - r.lastSyncAt) / r.everyMs) * r.everyMs;
      if (latest > r.lastSyncAt && latest > (r.blockedAt ?? -Infinity)) r.lastSyncAt = latest;
    }
  }

  private canReach(datastores: readonly string[], h: LabHost): boolean {
    return datastores.every((name) => {
      const d = this.datastores.get(name);
      return !!d && !d.lostEverywhere && d.hosts.includes(h.name) && !d.lostOn.has(h.name);
    });
  }

  private alive(h: LabHost): boolean {
    return h.powered && !h.crashed;
  }

  private inView(h: LabHost): boolean {
    return this.alive(h) && !h.partitioned;
  }

  private running(v: LabVm): boolean {
    const h = this.hosts.get(v.host);
    return !!h && this.alive(h) && v.power === 'on';
  }

  private managerState(h: LabHost): HostState {
    return this.inView(h) ? h.admin : 'notResponding';
  }

  private reportedPower(v: LabVm): PowerState {
    const h = this.hosts.get(v.host);
    if (h && !this.inView(h)) return v.reported ?? v.power;
    return v.power;
  }

  /** The host drops out of the manager's view: freeze what the manager knew of its VMs, then apply the change. */
  private leaveView(h: LabHost, change: () => void): void {
    const wasInView = this.inView(h);
    const vms = [...this.vms.values()].filter((v) => v.host === h.name);
    if (wasInView) for (const v of vms) v.reported = v.power;
    change();
    if (!this.alive(h)) for (const v of vms) if (v.power === 'on') v.power = 'off';
  }

  private enterView(h: LabHost): void {
    if (!this.inView(h)) return;
    for (const v of this.vms.values()) if (v.host === h.name) delete v.reported;
  }

  private startTask(op: string, subject: TaskSubject, durationMs: number, complete: (at: number) => string | undefined): LabTaskInfo {
    const now = this.clock.now();
    const seq = ++this.taskSeq;
    const id = `task-${seq}`;
    const vm = subject.vm;
    if (vm) vm.busyWith = id;
    const context: Omit<LabLogEntry, 't' | 'op'> = {
      cluster: vm?.cluster ?? subject.cluster,
      ...(vm ? { vm: vm.name } : {}),
      ...(subject.host ? { host: subject.host } : {}),
      ...(subject.from ? { from: subject.from } : {}),
      ...(subject.to ? { to: subject.to } : {}),
    };
    const task: LabTask = {
      id,
      op,
      seq,
      submittedAt: now,
      endsAt: now + Math.round(durationMs),
      state: 'running',
      context,
      complete: (at) => {
        if (vm && vm.busyWith === id) delete vm.busyWith;
        return complete(at);
      },
    };
    this.tasks.set(id, task);
    return taskInfo(task);
  }

  /** Completes, in order, every task whose end has passed. */
  private settle(): void {
    const now = this.clock.now();
    const due = [...this.tasks.values()].filter((t) => t.state === 'running' && t.endsAt <= now).sort((a, b) => a.endsAt - b.endsAt || a.seq - b.seq);
    for (const t of due) {
      // Replicas sync up to the moment a task changes who runs where, not beyond.
      this.syncReplicas(t.endsAt);
      const error = t.complete(t.endsAt);
      t.state = error ? 'error' : 'success';
      if (error) {
        const message = error.startsWith(VIOLATION) ? error.slice(VIOLATION.length) : error;
        t.error = message;
        this.log({ t: t.endsAt, op: t.op, ...t.context, error: message, ...(error.startsWith(VIOLATION) ? { violation: true as const } : {}) });
      }
    }
    this.syncReplicas(now);
  }

  private host(ref: string): LabHost {
    const h = this.hosts.get(ref) ?? [...this.hosts.values()].find((x) => x.id === ref);
    if (!h) throw new LabError(404, 'unknown-host', `unknown host "${ref}"`);
    return h;
  }

  private vm(ref: string): LabVm {
    const v = this.vms.get(ref) ?? [...this.vms.values()].find((x) => x.id === ref);
    if (!v) throw new LabError(404, 'unknown-vm', `unknown VM "${ref}"`);
    return v;
  }

  private datastore(ref: string): LabDatastore {
    const d = this.datastores.get(ref) ?? [...this.datastores.values()].find((x) => x.id === ref);
    if (!d) throw new LabError(404, 'unknown-datastore', `unknown datastore "${ref}"`);
    return d;
  }

  private sameCluster(vm: LabVm, h: LabHost): void {
    if (vm.cluster !== h.cluster) throw new LabError(409, 'other-cluster', `host ${h.name} is in cluster ${h.cluster}, not ${vm.cluster}`);
  }

  private notBusy(vm: LabVm): void {
    if (vm.busyWith) throw new LabError(409, 'task-in-progress', `${vm.name} has an operation in progress (${vm.busyWith})`);
  }

  private acceptsVms(h: LabHost): void {
    if (!this.inView(h)) throw new LabError(409, 'host-not-responding', `host ${h.name} is not responding`);
    if (h.admin !== 'connected') throw new LabError(409, 'host-unavailable', `host ${h.name} is ${h.admin}`);
  }

  private reachesDatastores(vm: Pick<LabVm, 'name' | 'datastores'>, h: LabHost): void {
    for (const name of vm.datastores) {
      const d = this.datastores.get(name);
      if (!d || d.lostEverywhere || !d.hosts.includes(h.name) || d.lostOn.has(h.name)) {
        throw new LabError(409, 'datastore-unreachable', `host ${h.name} cannot reach datastore ${name} of ${vm.name}`);
      }
    }
  }
}

/** Marks a task error as a broken safety rule; settle() turns it into a `violation` log entry. */
const VIOLATION = '\u0000violation:';
function violation(message: string): string {
  return `${VIOLATION}${message}`;
}

function taskInfo(t: LabTask): LabTaskInfo {
  return { id: t.id, op: t.op, state: t.state, submittedAt: t.submittedAt, endsAt: t.endsAt, ...(t.error ? { error: t.error } : {}) };
}
