/**
 * What the controller remembers about storage from poll to poll: free-space
 * samples per datastore (for the forecast), each datastore lost on a host
 * (since when, on how many polls, which VMs ran there), how many polls in a
 * row each of those VMs has been seen off, and the conditions already
 * reported, so that each change is told once. Everything it decides from
 * is in the snapshot; it only adds time.
 *
 * Memory is bounded by the inventory: entries of datastores, hosts and VMs
 * that are gone are dropped, and each history keeps at most a day of samples.
 */
import type { ClusterSnapshot, Vm } from '../model/inventory.js';
import type { PolicySet } from '../policy/policy-set.js';
import { formatGiB } from '../model/units.js';
import { formatDuration } from '../clock/duration.js';
import { accessCondition, assessDatastores, DEFAULT_FREE_LEVELS, type DatastoreFinding, type FreeLevels } from '../storage/assess.js';
import { describeFullIn, FreeSpaceHistory, type Forecast } from '../storage/forecast.js';
import { replicationLags, type ReplicaLag } from '../storage/replication.js';
import type { StorageLoss } from '../plan/storage-response.js';

export interface StorageEvent {
  readonly kind: 'storage' | 'rpo';
  readonly subject: string;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface StorageObservation {
  readonly findings: readonly DatastoreFinding[];
  readonly forecasts: ReadonlyMap<string, Forecast>;
  readonly levels: FreeLevels;
  readonly losses: readonly StorageLoss[];
  readonly offPolls: ReadonlyMap<string, number>;
  readonly lags: readonly ReplicaLag[];
  /** Changes since the last poll, in words. */
  readonly events: readonly StorageEvent[];
}

interface LossEntry {
  readonly datastore: string;
  readonly host: string;
  readonly since: number;
  polls: number;
  readonly running: Set<string>;
}

/** The free-space levels for a cluster: its policy's, else the alerts section's, else Vigil's. */
export function freeLevelsFor(policies: PolicySet, cluster: string, defaults?: Omit<FreeLevels, 'source'>): FreeLevels {
  const free = policies.clusterRules(cluster).storage.free;
  if (free) return { ...free, source: 'policy' };
  return defaults ? { ...defaults, source: 'alerts' } : DEFAULT_FREE_LEVELS;
}

export class StorageTracker {
  private readonly histories = new Map<string, FreeSpaceHistory>();
  private readonly losses = new Map<string, LossEntry>();
  private readonly offPolls = new Map<string, number>();
  /** The last poll's VMs: which ran where just before a loss was first seen. Read only when a new loss appears. */
  private previousVms: readonly Vm[] = [];
  /** Datastores lost on every host, with the time it was first seen. */
  private readonly lostEverywhere = new Map<string, number>();
  private readonly degraded = new Set<string>();
  private readonly levelOf = new Map<string, string>();
  private readonly overRpo = new Set<string>();

  constructor(private readonly defaults?: Omit<FreeLevels, 'source'>) {}

  observe(snapshot: ClusterSnapshot, now: number, policies: PolicySet): StorageObservation {
    const events: StorageEvent[] = [];
    const say = (kind: StorageEvent['kind'], subject: string, message: string, data: Record<string, unknown>) => events.push({ kind, subject, message, data });
    const levels = freeLevelsFor(policies, snapshot.cluster, this.defaults);

    // Free-space history and forecasts.
    const forecasts = new Map<string, Forecast>();
    const names = new Set(snapshot.datastores.map((d) => d.name));
    for (const d of snapshot.datastores) {
      let h = this.histories.get(d.name);
      if (!h) {
        h = new FreeSpaceHistory();
        this.histories.set(d.name, h);
      }
      h.add(now, d.freeGiB, d.capacityGiB);
      forecasts.set(d.name, h.forecast(now));
    }
    for (const name of this.histories.keys()) if (!names.has(name)) this.histories.delete(name);
    const findings = assessDatastores(snapshot, { levels, forecasts });

    // Losses per datastore and host.
    // Built only when some host lost something: most polls have no loss, and 20,000 VMs are not free to index.
    let byHost: Map<string, Vm[]> | undefined;
    const vmsOnHost = (host: string): Vm[] => {
      if (!byHost) {
        byHost = new Map();
        for (const v of snapshot.vms) {
          const on = byHost.get(v.host);
          if (on) on.push(v);
          else byHost.set(v.host, [v]);
        }
      }
      return byHost.get(host) ?? [];
    };
    const datastores = new Map(snapshot.datastores.map((d) => [d.name, d]));
    const current = new Set<string>();
    // Datastores back from a loss everywhere on this poll: told once as a whole, not host by host.
    const backEverywhere = new Set<string>();
    for (const d of snapshot.datastores) {
      const access = accessCondition(d);
      const everywhere = access.condition === 'lost';
      if (everywhere && !this.lostEverywhere.has(d.name)) {
        const users = snapshot.vms.filter((v) => v.datastores.includes(d.name)).map((v) => v.name);
        say('storage', d.name, `datastore ${d.name} lost on every host that mounts it (${list(d.hosts)}): ${users.length} VM(s) use it${users.length ? ` (${list(users)})` : ''}; there is nowhere to move them, so Vigil only alerts`, { datastore: d.name, condition: 'lost', hosts: d.hosts, vms: users });
        this.lostEverywhere.set(d.name, now);
      } else if (!everywhere && this.lostEverywhere.has(d.name)) {
        const since = this.lostEverywhere.get(d.name) as number;
        say('storage', d.name, `datastore ${d.name} is reachable again from ${list(access.reachableOn)} (lost everywhere for ${formatDuration(now - since)})`, { datastore: d.name, condition: access.condition });
        this.lostEverywhere.delete(d.name);
        backEverywhere.add(d.name);
      }
      for (const host of access.lostOn) {
        const key = `${d.name}\u0000${host}`;
        current.add(key);
        const users = vmsOnHost(host).filter((v) => v.datastores.includes(d.name));
        let e = this.losses.get(key);
        if (!e) {
          // The VMs that ran there on the poll before the loss was seen count too: they may have died with it in between.
          const before = new Set(this.previousVms.filter((v) => v.host === host && v.power === 'on').map((v) => v.name));
          const ran = users.filter((v) => v.power === 'on' || before.has(v.name)).map((v) => v.name);
          e = { datastore: d.name, host, since: now, polls: 0, running: new Set(ran) };
          this.losses.set(key, e);
          if (!everywhere) {
            const on = users.filter((v) => v.power === 'on').map((v) => v.name);
            const stopped = ran.filter((vm) => !on.includes(vm));
            const died = stopped.length ? `; ${stopped.length} VM(s) that ran there on the last poll are off now (${list(stopped)})` : '';
            say('storage', d.name, `datastore ${d.name} lost on ${host} (other hosts still reach it): ${on.length ? `${on.length} running VM(s) there use it (${list(on)})` : 'no running VM there uses it'}${died}`, { datastore: d.name, host, condition: 'lost-on-host', vms: on, ...(stopped.length ? { stopped } : {}) });
          }
        }
        e.polls += 1;
        for (const v of users) if (v.power === 'on') e.running.add(v.name);
      }
      for (const host of access.degradedOn) {
        const key = `${d.name}\u0000${host}`;
        if (!this.degraded.has(key)) {
          this.degraded.add(key);
          say('storage', d.name, `datastore ${d.name} is degraded on ${host} (${d.type === 'csv' ? 'redirected access' : 'reported inactive or impaired there'}): Vigil moves no VM onto ${host} for it`, { datastore: d.name, host, condition: 'degraded' });
        }
      }
    }
    for (const [key, e] of this.losses) {
      if (current.has(key)) continue;
      this.losses.delete(key);
      if (names.has(e.datastore) && !this.lostEverywhere.has(e.datastore) && !backEverywhere.has(e.datastore)) say('storage', e.datastore, `datastore ${e.datastore} is reachable again on ${e.host} (lost for ${formatDuration(now - e.since)})`, { datastore: e.datastore, host: e.host, condition: 'recovered' });
    }
    for (const key of this.degraded) {
      const [ds, host] = key.split('\u0000') as [string, string];
      const d = datastores.get(ds);
      if (d && accessCondition(d).degradedOn.includes(host)) continue;
      this.degraded.delete(key);
      if (d) say('storage', ds, `datastore ${ds} is no longer degraded on ${host}`, { datastore: ds, host, condition: 'recovered' });
    }
    for (const name of this.lostEverywhere.keys()) if (!names.has(name)) this.lostEverywhere.delete(name);

    // Free-space levels: told when they change (not on the first sight of a datastore that is fine).
    for (const f of findings) {
      const before = this.levelOf.get(f.name);
      this.levelOf.set(f.name, f.level);
      if (before === f.level || (before === undefined && f.level === 'ok')) continue;
      const d = datastores.get(f.name);
      const figures = d && d.freeGiB !== null && d.capacityGiB !== null ? ` (${formatGiB(d.freeGiB)} of ${formatGiB(d.capacityGiB)})` : '';
      const forecast = f.fullInDays !== null ? `; ${describeFullIn(f.fullInDays)}` : '';
      const message =
        f.level === 'unknown'
          ? `datastore ${f.name}: capacity or free space not reported, so its free space is unknown (not taken as full or empty)`
          : f.level === 'ok'
            ? `datastore ${f.name} has ${f.freePercent}% free${figures} again, above the warning level of ${f.levels.warningPercent}%`
            : `datastore ${f.name} has ${f.freePercent}% free${figures}, at or under the ${f.level} level of ${f.level === 'critical' ? f.levels.criticalPercent : f.levels.warningPercent}%${forecast}`;
      say('storage', f.name, message, { datastore: f.name, level: f.level, freePercent: f.freePercent, fullInDays: f.fullInDays });
    }
    for (const name of this.levelOf.keys()) if (!names.has(name)) this.levelOf.delete(name);

    // VMs seen off, for the ones that ran where storage was lost.
    const watched = new Set<string>();
    for (const e of this.losses.values()) for (const vm of e.running) watched.add(vm);
    const off = new Set<string>();
    if (watched.size) for (const v of snapshot.vms) if (v.power === 'off' && watched.has(v.name)) off.add(v.name);
    for (const vm of watched) {
      if (off.has(vm)) this.offPolls.set(vm, (this.offPolls.get(vm) ?? 0) + 1);
      else this.offPolls.delete(vm);
    }
    for (const vm of this.offPolls.keys()) if (!watched.has(vm)) this.offPolls.delete(vm);
    this.previousVms = snapshot.vms;

    // Replication lag against the RPO.
    const lags = replicationLags(snapshot, now, (vm) => policies.replicationRules(snapshot.cluster, vm));
    const nowOver = new Set<string>();
    for (const l of lags) {
      if (l.overRpo) nowOver.add(l.vm);
      if (l.overRpo && !this.overRpo.has(l.vm)) {
        const age = l.lagMs === null ? 'has never completed a sync' : `is ${formatDuration(l.lagMs)} old`;
        say('rpo', l.vm, `replica of ${l.vm} on ${l.replication.target} ${age}, over its RPO of ${formatDuration(l.rpoMs ?? 0)} (replication ${l.replication.state}${l.replication.healthy ? '' : ', unhealthy'})`, { vm: l.vm, target: l.replication.target, lagMs: l.lagMs, rpoMs: l.rpoMs, state: l.replication.state });
      } else if (!l.overRpo && this.overRpo.has(l.vm)) {
        say('rpo', l.vm, `replica of ${l.vm} on ${l.replication.target} is within its RPO again (${l.rpoMs === undefined ? 'no RPO set now' : l.lagMs === null ? 'age unknown' : l.lagMs < 1_000 ? 'just synced' : `${formatDuration(l.lagMs)} old`})`, { vm: l.vm, target: l.replication.target, lagMs: l.lagMs, rpoMs: l.rpoMs ?? null, back: true });
      }
    }
    for (const vm of this.overRpo) {
      if (nowOver.has(vm) || lags.some((l) => l.vm === vm)) continue;
      say('rpo', vm, `${vm} no longer reports a replica`, { vm, back: true });
    }
    this.overRpo.clear();
    for (const vm of nowOver) this.overRpo.add(vm);

    const losses: StorageLoss[] = [...this.losses.values()].map((e) => ({ datastore: e.datastore, host: e.host, since: e.since, polls: e.polls, runningAtLoss: [...e.running].sort() }));
    return { findings, forecasts, levels, losses, offPolls: new Map(this.offPolls), lags, events };
  }
}

function list(items: readonly string[], max = 6): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
