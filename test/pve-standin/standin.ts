/**
 * A small, stateful stand-in for a Proxmox VE cluster's API: Vigil's own
 * test peer, NOT Proxmox. Its answers have the shapes of recorded real
 * responses (see test/fixtures/proxmox) and it keeps the state an HA
 * controller cares about:
 *
 * - nodes online/offline (a failed node keeps its guests' last reported
 *   status for `rrdExpiryMs`, then they read `unknown`, as pmxcfs' status
 *   data expires); quorum = more than half of the nodes online;
 * - guests owned by the node whose /etc/pve folder holds their config (a
 *   real directory tree, see tree.ts); lock = the config's `lock:` line;
 * - storages per node with active/enabled/shared, used and total;
 * - tasks with UPIDs that run for a while and stop with an exit status and
 *   a log; migrations that move a guest (lock `migrate` while they run);
 * - a miniature HA manager: fence after `fenceDelayMs`, fence acknowledged
 *   when the dead node's agent lock expires (`lockMs`), recovery onto the
 *   least loaded node, and node maintenance requested through
 *   ha/crm_commands (what `ha-manager crm-command` writes); a migration
 *   asked of an HA-managed guest through the API is, as in Proxmox, an
 *   `hamigrate` task that only queues the request for the HA manager and
 *   ends at once, and the HA manager moves the guest later;
 * - the truth apart from the API's view: a partitioned node disappears
 *   from the cluster while its guests keep running, and any start of a
 *   guest that already runs somewhere is recorded as an error, so tests
 *   can prove that nothing ever ran twice.
 */
import { PveTree, type GuestFile, type GuestType } from './tree.js';

export interface NodeSpec {
  readonly name: string;
  readonly cpu: number;
  readonly memoryGiB: number;
}

export interface StorageSpec {
  readonly id: string;
  readonly type: string;
  readonly shared: boolean;
  readonly content: string;
  readonly totalGiB: number;
  readonly usedGiB: number;
  /** Nodes where it is configured (default: all). */
  readonly nodes?: readonly string[];
}

export interface GuestSpec {
  readonly vmid: number;
  readonly type?: GuestType;
  readonly name: string;
  readonly node: string;
  readonly cores: number;
  readonly memoryMiB: number;
  readonly disks: readonly string[];
  readonly running?: boolean;
  readonly ha?: boolean;
  readonly tags?: string;
}

export interface Timings {
  readonly migrateMs: number;
  readonly startMs: number;
  readonly fenceDelayMs: number;
  readonly lockMs: number;
  readonly rrdExpiryMs: number;
}

/** How long an `hamigrate` worker runs: it only queues a request for the CRM. */
const HA_REQUEST_MS = 50;

export const DEFAULT_TIMINGS: Timings = { migrateMs: 300, startMs: 150, fenceDelayMs: 600, lockMs: 1200, rrdExpiryMs: 300_000 };

interface NodeState extends NodeSpec {
  online: boolean;
  offlineSince?: number;
  lrmMode: 'active' | 'maintenance';
  nodeid: number;
}

interface Runtime {
  /** The truth: a process runs this guest (on `on`). */
  running: boolean;
  on?: string;
  /** What the node last reported (rrd); frozen when the node goes offline. */
  reported: 'running' | 'stopped';
}

export interface Task {
  readonly upid: string;
  readonly node: string;
  readonly type: string;
  readonly id: string;
  readonly user: string;
  readonly starttime: number;
  readonly pid: number;
  endAt: number;
  exitstatus?: string;
  ended: boolean;
  readonly log: string[];
  readonly finish: () => string | undefined;
}

export interface HaService {
  readonly sid: string;
  request: 'started' | 'stopped' | 'ignored';
  node: string;
  crmState: string;
  since: number;
}

export interface LogEntry {
  readonly t: number;
  readonly op: string;
  readonly vmid?: number;
  readonly node?: string;
  readonly to?: string;
  readonly error?: string;
}

export class StandinError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ReplicationSpec {
  readonly guest: number;
  readonly target: string;
  readonly lastSync?: number;
  readonly failCount?: number;
  readonly error?: string;
}

export class PveStandin {
  readonly tree: PveTree;
  readonly nodes = new Map<string, NodeState>();
  readonly storages: StorageSpec[];
  readonly storageState = new Map<string, { active: boolean; enabled: boolean }>();
  readonly runtime = new Map<number, Runtime>();
  readonly tasks = new Map<string, Task>();
  readonly ha = new Map<string, HaService>();
  readonly replication: ReplicationSpec[] = [];
  readonly timings: Timings;
  readonly apiNode: string;
  private readonly events: LogEntry[] = [];
  private pidSeq = 0x1000;
  private failNext = new Map<number, string>();
  private nodeStatus = new Map<string, string>();
  /** Requests served per path (tests and the benchmark count them). */
  readonly requests: string[] = [];

  constructor(o: { root: string; nodes: readonly NodeSpec[]; storages: readonly StorageSpec[]; guests: readonly GuestSpec[]; timings?: Partial<Timings>; apiNode?: string }) {
    this.timings = { ...DEFAULT_TIMINGS, ...o.timings };
    this.tree = new PveTree(o.root);
    this.tree.init(o.nodes.map((n) => n.name));
    o.nodes.forEach((n, i) => this.nodes.set(n.name, { ...n, online: true, lrmMode: 'active', nodeid: i + 1 }));
    this.apiNode = o.apiNode ?? (o.nodes[0]?.name as string);
    this.storages = [...o.storages];
    for (const s of this.storages) for (const n of s.nodes ?? o.nodes.map((x) => x.name)) this.storageState.set(`${s.id}@${n}`, { active: true, enabled: true });
    for (const g of o.guests) {
      const type = g.type ?? 'qemu';
      const config: Record<string, string> = { name: g.name, memory: String(g.memoryMiB) };
      config[type === 'qemu' ? 'cores' : 'cores'] = String(g.cores);
      g.disks.forEach((d, i) => {
        config[type === 'qemu' ? `scsi${i}` : i === 0 ? 'rootfs' : `mp${i - 1}`] = `${d}:${type === 'qemu' ? 'vm' : 'subvol'}-${g.vmid}-disk-${i},size=8G`;
      });
      if (g.tags) config.tags = g.tags;
      this.tree.write(g.node, type, g.vmid, config);
      const running = g.running ?? true;
      this.runtime.set(g.vmid, { running, ...(running ? { on: g.node } : {}), reported: running ? 'running' : 'stopped' });
      if (g.ha) this.ha.set(`${type === 'qemu' ? 'vm' : 'ct'}:${g.vmid}`, { sid: `${type === 'qemu' ? 'vm' : 'ct'}:${g.vmid}`, request: 'started', node: g.node, crmState: running ? 'started' : 'stopped', since: Date.now() });
    }
    for (const n of this.nodes.keys()) this.nodeStatus.set(n, 'online');
  }

  // ---- time -------------------------------------------------------------

  now(): number {
    return Date.now();
  }

  /** Advances everything time-driven: tasks, the HA manager. Called on every request and by the server's timer. */
  tick(): void {
    const now = this.now();
    for (const t of this.tasks.values()) {
      if (t.ended || now < t.endAt) continue;
      t.ended = true;
      let exit: string | undefined;
      try {
        exit = t.finish();
      } catch (e) {
        exit = (e as Error).message;
      }
      t.exitstatus = exit ?? 'OK';
      t.log.push(exit ? `TASK ERROR: ${exit}` : 'TASK OK');
    }
    this.haRound(now);
  }

  // ---- faults -----------------------------------------------------------

  /** The node dies: its guests stop; the cluster sees it offline. */
  failNode(name: string): void {
    const n = this.node(name);
    n.online = false;
    n.offlineSince = this.now();
    for (const [vmid, r] of this.runtime) if (r.on === name) this.runtime.set(vmid, { ...r, running: false, on: undefined });
    this.record({ op: 'node-fail', node: name });
  }

  /** The node leaves the cluster but keeps running its guests: the case fencing exists for. */
  partitionNode(name: string): void {
    const n = this.node(name);
    n.online = false;
    n.offlineSince = this.now();
    this.record({ op: 'node-partition', node: name });
  }

  recoverNode(name: string): void {
    const n = this.node(name);
    n.online = true;
    delete n.offlineSince;
    this.record({ op: 'node-recover', node: name });
  }

  setStorage(id: string, node: string, s: { active?: boolean; enabled?: boolean }): void {
    const key = `${id}@${node}`;
    this.storageState.set(key, { ...(this.storageState.get(key) ?? { active: true, enabled: true }), ...s });
  }

  /** The next task for this guest ends with this exit status. */
  failNextTask(vmid: number, exitstatus: string): void {
    this.failNext.set(vmid, exitstatus);
  }

  log(): readonly LogEntry[] {
    return this.events;
  }

  errors(): LogEntry[] {
    return this.events.filter((e) => e.error);
  }

  quorate(): boolean {
    const online = [...this.nodes.values()].filter((n) => n.online).length;
    return online * 2 > this.nodes.size;
  }

  // ---- lookups ----------------------------------------------------------

  node(name: string): NodeState {
    const n = this.nodes.get(name);
    if (!n) throw new StandinError(500, `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`);
    return n;
  }

  /** A request proxied to another node, as pveproxy does: it fails when that node is down. */
  reach(name: string): NodeState {
    const n = this.node(name);
    if (!n.online) throw new StandinError(595, `No route to host`);
    return n;
  }

  guest(node: string, type: GuestType, vmid: number): GuestFile {
    const g = this.tree.find(vmid);
    if (!g || g.node !== node || g.type !== type) {
      throw new StandinError(500, `Configuration file 'nodes/${node}/${type === 'qemu' ? 'qemu-server' : 'lxc'}/${vmid}.conf' does not exist`);
    }
    return g;
  }

  sidOf(g: { type: GuestType; vmid: number }): string {
    return `${g.type === 'qemu' ? 'vm' : 'ct'}:${g.vmid}`;
  }

  guestReported(g: GuestFile): { status: 'running' | 'stopped' | 'unknown'; stale: boolean } {
    const owner = this.nodes.get(g.node);
    const r = this.runtime.get(g.vmid);
    if (!owner || !r) return { status: 'unknown', stale: true };
    if (owner.online) return { status: r.running && r.on === g.node ? 'running' : 'stopped', stale: false };
    if (owner.offlineSince !== undefined && this.now() - owner.offlineSince < this.timings.rrdExpiryMs) return { status: r.reported, stale: true };
    return { status: 'unknown', stale: true };
  }

  // ---- operations (what the API handlers call) ---------------------------

  private newTask(node: string, type: string, id: string, durationMs: number, finish: () => string | undefined, log: string[] = []): Task {
    const now = this.now();
    const pid = ++this.pidSeq;
    const hex = (n: number, w = 8) => n.toString(16).toUpperCase().padStart(w, '0');
    const starttime = Math.floor(now / 1000);
    const upid = `UPID:${node}:${hex(pid)}:${hex(pid * 7)}:${hex(starttime)}:${type}:${id}:root@pam:`;
    const t: Task = { upid, node, type, id, user: 'root@pam', starttime, pid, endAt: now + durationMs, ended: false, log, finish };
    this.tasks.set(upid, t);
    return t;
  }

  migrate(node: string, type: GuestType, vmid: number, target: string, online: boolean, after?: () => void): Task {
    this.reach(node);
    const g = this.guest(node, type, vmid);
    const tgt = this.node(target);
    if (!tgt.online) throw new StandinError(500, `target node '${target}' is not online`);
    if (target === node) throw new StandinError(400, `target is local node.`);
    if (g.config.lock) throw new StandinError(500, `VM ${vmid} is locked (${g.config.lock})`);
    const r = this.runtime.get(vmid) as Runtime;
    if (r.running && !online) throw new StandinError(500, type === 'qemu' ? `can't migrate running VM without --online` : `CT is running - use option restart`);
    this.tree.setLock(g, 'migrate');
    const failure = this.failNext.get(vmid);
    this.failNext.delete(vmid);
    const sid = this.sidOf(g);
    const taskType = type === 'qemu' ? 'qmigrate' : 'vzmigrate';
    const t = this.newTask(node, taskType, String(vmid), this.timings.migrateMs, () => {
      const now = this.tree.find(vmid);
      if (!now) return 'config vanished';
      this.tree.setLock(now, undefined);
      if (failure) {
        this.record({ op: 'migrate-failed', vmid, node, to: target });
        return failure;
      }
      if (!this.node(target).online) return `migration aborted: target node '${target}' went offline`;
      this.tree.move(this.tree.find(vmid) as GuestFile, target);
      const rt = this.runtime.get(vmid) as Runtime;
      if (rt.running) this.runtime.set(vmid, { ...rt, on: target });
      const svc = this.ha.get(sid);
      if (svc) svc.node = target;
      this.record({ op: 'migrate', vmid, node, to: target });
      after?.();
      return undefined;
    });
    t.log.push(`starting migration of ${type === 'qemu' ? 'VM' : 'CT'} ${vmid} to node '${target}' (127.0.0.1)`);
    return t;
  }

  /**
   * POST .../migrate as the API handles it: for a guest Proxmox HA manages
   * (and does not ignore), an `hamigrate` worker that runs
   * `ha-manager migrate SID TARGET`, which only queues the request for the
   * CRM, and ends; the HA manager carries out the migration on a later
   * round. Any other guest is migrated by the task itself.
   */
  migrateRequest(node: string, type: GuestType, vmid: number, target: string, online: boolean): Task {
    this.reach(node);
    const g = this.guest(node, type, vmid);
    const svc = this.ha.get(this.sidOf(g));
    if (!svc || svc.request === 'ignored') return this.migrate(node, type, vmid, target, online);
    this.node(target);
    if (target === node) throw new StandinError(400, `target is local node.`);
    const r = this.runtime.get(vmid) as Runtime;
    if (r.running && !online) throw new StandinError(500, type === 'qemu' ? `can't migrate running VM without --online` : `CT is running - use option restart`);
    const what = type === 'qemu' ? 'VM' : 'CT';
    return this.newTask(node, 'hamigrate', String(vmid), HA_REQUEST_MS, () => {
      this.tree.queueCrmCommand(`migrate ${svc.sid} ${target}`);
      return undefined;
    }, [`Requesting HA migration for ${what} ${vmid} to node ${target}`]);
  }

  start(node: string, type: GuestType, vmid: number, user = 'root@pam'): Task {
    this.reach(node);
    const g = this.guest(node, type, vmid);
    if (g.config.lock) throw new StandinError(500, `VM ${vmid} is locked (${g.config.lock})`);
    const failure = this.failNext.get(vmid);
    this.failNext.delete(vmid);
    void user;
    return this.newTask(node, type === 'qemu' ? 'qmstart' : 'vzstart', String(vmid), this.timings.startMs, () => {
      const rt = this.runtime.get(vmid) as Runtime;
      if (failure) return failure;
      if (rt.running) {
        // The whole point of the stand-in's truth: a second copy of a running guest.
        this.record({ op: 'start', vmid, node, error: `guest ${vmid} already runs on ${rt.on}` });
        return `VM ${vmid} already running`;
      }
      this.runtime.set(vmid, { running: true, on: node, reported: 'running' });
      this.record({ op: 'start', vmid, node });
      return undefined;
    });
  }

  private record(e: Omit<LogEntry, 't'>): void {
    this.events.push({ t: this.now(), ...e });
  }

  // ---- the HA manager ---------------------------------------------------

  private haRound(now: number): void {
    const quorate = this.quorate();
    const migrations: { sid: string; target: string }[] = [];
    for (const line of this.tree.takeCrmCommands()) {
      const mig = /^(?:migrate|relocate) (\S+) (\S+)$/.exec(line.trim());
      if (mig) migrations.push({ sid: mig[1] as string, target: mig[2] as string });
      const m = /^(enable|disable)-node-maintenance (\S+)$/.exec(line.trim());
      if (!m) continue;
      const n = this.nodes.get(m[2] as string);
      if (n) n.lrmMode = m[1] === 'enable' ? 'maintenance' : 'active';
    }
    if (!quorate) return;
    for (const { sid, target } of migrations) {
      // The CRM moves a started or stopped service to an online, active node; other requests it drops (as Proxmox logs and ignores them).
      const svc = this.ha.get(sid);
      const to = this.nodes.get(target);
      const vmid = Number(sid.split(':')[1]);
      const g = this.tree.find(vmid);
      if (!svc || !to || !to.online || to.lrmMode !== 'active' || !g || g.node === target || g.config.lock) continue;
      if (svc.crmState !== 'started' && svc.crmState !== 'stopped') continue;
      const was = svc.crmState;
      this.setSvc(svc, 'migrate', now);
      this.migrate(g.node, g.type, vmid, target, this.runtime.get(vmid)?.running === true, () => this.setSvc(svc, was, this.now()));
    }
    for (const [name, n] of this.nodes) {
      const state = this.nodeStatus.get(name) ?? 'unknown';
      if (n.online) this.nodeStatus.set(name, n.lrmMode === 'maintenance' ? 'maintenance' : 'online');
      else if (state === 'online' || state === 'maintenance') this.nodeStatus.set(name, 'unknown');
    }
    for (const svc of this.ha.values()) {
      if (svc.request === 'ignored') continue;
      const owner = this.nodes.get(svc.node);
      if (!owner) continue;
      if (svc.crmState === 'started' && !owner.online && owner.offlineSince !== undefined && now - owner.offlineSince >= this.timings.fenceDelayMs) {
        this.setSvc(svc, 'fence', now);
        this.nodeStatus.set(svc.node, 'fence');
        this.record({ op: 'ha-fence', node: svc.node });
      } else if (svc.crmState === 'fence' && owner.offlineSince !== undefined && now - owner.offlineSince >= this.timings.lockMs) {
        // Got the dead node's agent lock: its watchdog has reset it by now.
        this.nodeStatus.set(svc.node, 'unknown');
        for (const [vmid, r] of this.runtime) if (r.on === svc.node) this.runtime.set(vmid, { ...r, running: false, on: undefined });
        this.setSvc(svc, 'recovery', now);
      } else if (svc.crmState === 'recovery') {
        const target = [...this.nodes.values()]
          .filter((n) => n.online && n.lrmMode === 'active')
          .sort((a, b) => this.load(a.name) - this.load(b.name) || (a.name < b.name ? -1 : 1))[0];
        if (!target) continue;
        const vmid = Number(svc.sid.split(':')[1]);
        const g = this.tree.find(vmid);
        if (!g) continue;
        this.tree.setLock(g, undefined);
        this.tree.move(this.tree.find(vmid) as GuestFile, target.name);
        this.record({ op: 'ha-recover', vmid, node: svc.node, to: target.name });
        svc.node = target.name;
        this.setSvc(svc, 'started', now);
        this.start(target.name, g.type, vmid);
      } else if (svc.crmState === 'started' && owner.online && owner.lrmMode === 'maintenance') {
        const target = [...this.nodes.values()].filter((n) => n.online && n.lrmMode === 'active' && n.name !== owner.name).sort((a, b) => this.load(a.name) - this.load(b.name) || (a.name < b.name ? -1 : 1))[0];
        const vmid = Number(svc.sid.split(':')[1]);
        const g = this.tree.find(vmid);
        if (!target || !g || g.config.lock) continue;
        this.setSvc(svc, 'migrate', now);
        this.migrate(g.node, g.type, vmid, target.name, true, () => this.setSvc(svc, 'started', this.now()));
      }
    }
  }

  private setSvc(svc: HaService, state: string, now: number): void {
    svc.crmState = state;
    svc.since = now;
  }

  private load(node: string): number {
    return [...this.runtime.values()].filter((r) => r.running && r.on === node).length;
  }

  haNodeStatus(name: string): string {
    return this.nodeStatus.get(name) ?? 'unknown';
  }
}
