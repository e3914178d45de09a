/**
 * Reconciles alerts with the status report. Decisions say when something
 * starts, but some conditions end without a decision (a VM no longer waits
 * because its host came back, a freeze lifted by hand), and alerting may
 * start after a decision was made. So on each evaluation the status report
 * raises what it shows and clears what it no longer shows. It only speaks
 * of what the report carries: a field the report lacks (`awaitingFence`,
 * `fencing` on an older controller) leaves those alerts alone.
 */
import type { ClusterStatus, StatusReport } from '../service/status.js';
import { describeCapacity } from '../plan/capacity.js';
import type { AlertBook } from './book.js';
import type { AlertKind } from './alert.js';
import { finishFailover } from './failover-alert.js';
import type { FailoverTracker } from './failovers.js';

/** Fields the lead is adding to each cluster; read when present. */
interface FencingFields {
  readonly awaitingFence?: readonly { readonly vm: string; readonly from: string; readonly reason: string }[];
  readonly fencing?: readonly { readonly host: string; readonly state: 'fencing' | 'failed'; readonly detail: string; readonly attempts: number }[];
}

/** Alert kinds whose conditions belong to one cluster's report (the others are thresholds, or cluster-less). */
const CLUSTER_KINDS: readonly AlertKind[] = ['host-failed', 'failover', 'restart-failed', 'action-failed', 'unplaced', 'awaiting-fence', 'fence-failed', 'fenced', 'frozen', 'capacity', 'poll-failed', 'controller', 'datastore-lost', 'datastore-degraded', 'rpo'];

export interface StatusSweepOptions {
  /** Generic controller alerts have no clearing signal: forget them after this long without a repeat. */
  readonly staleAfterMs: number;
}

export class StatusAlerts {
  constructor(
    private readonly book: AlertBook,
    private readonly failovers: FailoverTracker,
    private readonly o: StatusSweepOptions,
  ) {}

  sweep(report: StatusReport, at: number): void {
    const seen = new Set<string>();
    for (const c of report.clusters) {
      seen.add(c.name);
      this.cluster(c, at);
    }
    for (const kind of CLUSTER_KINDS) {
      for (const a of this.book.list(kind)) if (a.cluster !== '*' && !seen.has(a.cluster)) this.book.clear(kind, a.cluster, a.subject, at, `cluster ${a.cluster} is no longer watched`);
    }
    for (const a of this.book.list('controller')) if (at - a.lastSeen >= this.o.staleAfterMs) this.book.clear('controller', a.cluster, a.subject, at, 'not reported again since');
  }

  private cluster(c: ClusterStatus & FencingFields, at: number): void {
    const { book } = this;
    const name = c.name;

    if (c.frozen) book.raise({ kind: 'frozen', cluster: name, subject: name, severity: 'critical', summary: `Automation is frozen on cluster ${name}${c.frozenReason ? `: ${c.frozenReason}` : ''}. Vigil takes no action there until a person runs \`vigil unfreeze --cluster ${name}\`.`, details: { reason: c.frozenReason ?? null }, at });
    else book.clear('frozen', name, name, at, 'automation is no longer frozen');

    if (c.lastError) book.raise({ kind: 'poll-failed', cluster: name, subject: name, severity: 'warning', summary: `Vigil cannot read cluster ${name}: ${c.lastError}. Until it answers, no failover happens there.`, details: { error: c.lastError }, at });
    else if (c.lastPoll) book.clear('poll-failed', name, name, at, 'the cluster answers again');

    if (c.capacity && !c.capacity.ok) {
      const text = describeCapacity(c.capacity);
      book.raise({ kind: 'capacity', cluster: name, subject: name, severity: 'warning', summary: `Cluster ${name} cannot take the host failures its policy asks for: ${text}. Add capacity, or lower admission.tolerateHostFailures.`, details: { tolerates: c.capacity.tolerates, required: c.capacity.required }, at });
    } else if (c.capacity?.ok) book.clear('capacity', name, name, at, `failover capacity meets policy again: ${describeCapacity(c.capacity)}`);

    const health = new Map(c.hosts.map((h) => [h.name, h]));
    for (const h of c.hosts) {
      if (h.health === 'fenced') book.raise({ kind: 'fenced', cluster: name, subject: h.name, severity: 'warning', summary: `Host ${h.name} in cluster ${name} was fenced${h.healthReason ? ` (${h.healthReason})` : ''}; its VMs are released for restart elsewhere. Bring it back only after finding why it failed.`, details: { host: h.name, evidence: h.healthReason ?? null }, at });
      if (h.health === 'failed') book.raise({ kind: 'host-failed', cluster: name, subject: h.name, severity: 'critical', summary: `Host ${h.name} in cluster ${name} failed${h.healthReason ? ` (${h.healthReason})` : ''}. Vigil restarts its VMs elsewhere once it is known to be down.`, details: { host: h.name, reason: h.healthReason ?? null }, at });
    }
    for (const kind of ['host-failed', 'fenced', 'awaiting-fence', 'fence-failed'] as const) {
      for (const a of book.list(kind, name)) {
        const h = health.get(a.subject);
        if (!h) book.clear(kind, name, a.subject, at, `${a.subject} is no longer in the cluster`);
        else if (h.health === 'healthy' || h.health === 'maintenance') book.clear(kind, name, a.subject, at, h.health === 'healthy' ? `${a.subject} responds again` : `${a.subject} is in maintenance mode`);
      }
    }

    const vms = new Map(c.vms.map((v) => [v.name, v]));
    const unplaced = new Map(c.unplaced.map((u) => [u.vm, u]));
    for (const u of c.unplaced) {
      book.raise({ kind: 'unplaced', cluster: name, subject: u.vm, severity: 'critical', summary: `VM ${u.vm} (from ${u.from}) in cluster ${name} stays down: ${u.reason}. A person must act: free capacity, relax its placement rules, or start it by hand.`, details: { vm: u.vm, from: u.from, reason: u.reason }, at });
    }
    for (const a of book.list('unplaced', name)) {
      if (unplaced.has(a.subject)) continue;
      const vm = vms.get(a.subject);
      book.clear('unplaced', name, a.subject, at, vm?.power === 'on' ? `${a.subject} runs on ${vm.host}` : vm ? `${a.subject} no longer waits for a host` : `${a.subject} is no longer in the cluster`);
    }
    for (const a of book.list('restart-failed', name)) {
      const vm = vms.get(a.subject);
      if (vm?.power === 'on') book.clear('restart-failed', name, a.subject, at, `${a.subject} runs on ${vm.host}`);
      else if (!vm) book.clear('restart-failed', name, a.subject, at, `${a.subject} is no longer in the cluster`);
    }

    for (const f of this.failovers.all()) {
      if (f.cluster !== name) continue;
      const origin = health.get(f.host);
      if (origin && (origin.health === 'healthy' || origin.health === 'maintenance')) {
        finishFailover(book, this.failovers, f, at, origin.health === 'healthy' ? `${f.host} responds again` : `${f.host} is in maintenance mode`);
        continue;
      }
      let changed = false;
      for (const [vm, outcome] of f.vms) {
        if (outcome !== 'pending' && outcome !== 'retrying') continue;
        const v = vms.get(vm);
        // Running on another host: restarted, by Vigil or by a person. Gone: nothing left to restart.
        if (v?.power === 'on' && v.host !== f.host) f.vms.set(vm, 'restarted');
        else if (!v) f.vms.set(vm, 'dropped');
        else if (unplaced.has(vm)) f.vms.set(vm, 'down');
        else continue;
        changed = true;
      }
      if (changed) finishFailover(book, this.failovers, f, at);
    }

    this.storage(c, at);

    if (c.awaitingFence) {
      const byHost = new Map<string, { vms: string[]; reason: string }>();
      for (const w of c.awaitingFence) {
        const e = byHost.get(w.from) ?? { vms: [], reason: w.reason };
        e.vms.push(w.vm);
        byHost.set(w.from, e);
      }
      // A host with a fence agent at work (or failed) has its own alerts: `fenced` or
      // `fence-failed`. Waiting is news only where nothing can fence the host.
      const fenceHandled = new Set((c.fencing ?? []).map((f) => f.host));
      for (const host of fenceHandled) byHost.delete(host);
      for (const [host, e] of byHost) {
        book.raise({ kind: 'awaiting-fence', cluster: name, subject: host, severity: 'critical', summary: `VMs of ${host} (cluster ${name}) wait for the host to be fenced before they restart: ${e.reason}. If ${host} is known to be off, confirm it with \`vigil fence confirm ${host}\`.`, details: { host, vms: e.vms.sort(), reason: e.reason }, at });
      }
      for (const a of book.list('awaiting-fence', name)) if (!byHost.has(a.subject)) book.clear('awaiting-fence', name, a.subject, at, `no VM of ${a.subject} waits for fencing any more`);
    }
    if (c.fencing) {
      const failed = new Map(c.fencing.filter((f) => f.state === 'failed').map((f) => [f.host, f]));
      for (const f of failed.values()) {
        book.raise({ kind: 'fence-failed', cluster: name, subject: f.host, severity: 'critical', summary: `Fencing ${f.host} (cluster ${name}) failed after ${f.attempts} attempt(s): ${f.detail}. Its VMs stay down until it is fenced; check its BMC (Redfish/IPMI), or if it is known to be off run \`vigil fence confirm ${f.host}\`.`, details: { host: f.host, reason: f.detail, attempts: f.attempts }, at });
      }
      // A failed fence being retried (state 'fencing') is still a failure: clear only when fencing of the host is over.
      const inProgress = new Set(c.fencing.map((f) => f.host));
      for (const a of book.list('fence-failed', name)) if (!inProgress.has(a.subject)) book.clear('fence-failed', name, a.subject, at, `fencing ${a.subject} is no longer failing`);
    }
  }

  /**
   * Datastore access and replication lag, from the storage findings of the
   * report. A report without them (an older controller, no snapshot yet)
   * leaves these alerts as they are: no finding is not a recovery.
   */
  private storage(c: ClusterStatus, at: number): void {
    const { book } = this;
    const name = c.name;
    if (c.datastores.some((d) => d.condition !== undefined)) {
      const byName = new Map(c.datastores.map((d) => [d.name, d]));
      for (const d of c.datastores) {
        if (d.condition === undefined) continue;
        const users = c.vms.filter((v) => v.datastores.includes(d.name));
        if (d.condition === 'lost') {
          book.raise({ kind: 'datastore-lost', cluster: name, subject: d.name, severity: 'critical', summary: `Datastore ${d.name} (cluster ${name}) is lost on every host that mounts it${users.length ? `; ${users.length} VM(s) use it (${names(users.map((v) => v.name))})` : ''}. There is no host to move them to, so Vigil moves nothing: restore the storage (array, fabric, NFS export).`, details: { datastore: d.name, lostOn: d.hosts, everywhere: true, vms: users.map((v) => v.name) }, at });
        } else if (d.condition === 'lost-on-some') {
          const lost = new Set(d.inaccessibleOn);
          const affected = users.filter((v) => lost.has(v.host) && v.power === 'on');
          book.raise({
            kind: 'datastore-lost',
            cluster: name,
            subject: d.name,
            severity: affected.length ? 'critical' : 'warning',
            summary: `Datastore ${d.name} (cluster ${name}) is lost on ${names(d.inaccessibleOn)} while other hosts still reach it${affected.length ? `; ${affected.length} running VM(s) there use it (${names(affected.map((v) => v.name))}): Vigil moves them as storage.onLoss says` : ''}. Check the host's paths to it (HBA, multipath, network).`,
            details: { datastore: d.name, lostOn: d.inaccessibleOn, everywhere: false, vms: affected.map((v) => v.name) },
            at,
          });
        } else book.clear('datastore-lost', name, d.name, at, `${d.name} is reachable again from every host that mounts it`);
        const degraded = d.degradedOn ?? [];
        if (degraded.length && d.condition !== 'lost') {
          book.raise({ kind: 'datastore-degraded', cluster: name, subject: d.name, severity: 'warning', summary: `Datastore ${d.name} (cluster ${name}) is reached only degraded on ${names(degraded)}${d.type === 'csv' ? ' (CSV in redirected access)' : ''}. Vigil moves no VM onto ${degraded.length === 1 ? 'that host' : 'those hosts'} for it; check their storage paths.`, details: { datastore: d.name, degradedOn: degraded }, at });
        } else if (d.condition !== 'lost') book.clear('datastore-degraded', name, d.name, at, `${d.name} is no longer degraded on any host`);
      }
      for (const kind of ['datastore-lost', 'datastore-degraded'] as const) {
        for (const a of book.list(kind, name)) if (!byName.has(a.subject)) book.clear(kind, name, a.subject, at, `${a.subject} is no longer reported`);
      }
    }
    const vms = new Map(c.vms.map((v) => [v.name, v]));
    for (const v of c.vms) {
      const r = v.replication;
      if (!r) continue;
      if (r.overRpo) {
        const age = r.lagSeconds === null ? 'has never completed a sync (or its age is not reported)' : `is ${describeSeconds(r.lagSeconds)} old`;
        book.raise({
          kind: 'rpo',
          cluster: name,
          subject: v.name,
          severity: 'warning',
          summary: `Replica of VM ${v.name} (cluster ${name}) on ${r.target} ${age}, over its RPO of ${describeSeconds(r.rpoSeconds ?? 0)} (replication ${r.state}${r.healthy ? '' : ', unhealthy'}${r.failures ? `, ${r.failures} failed sync(s)` : ''}). A failover to it would lose more writes than the policy allows; check the replication job.`,
          details: { vm: v.name, target: r.target, lastSync: r.lastSync, lagSeconds: r.lagSeconds, rpoSeconds: r.rpoSeconds ?? null, state: r.state, healthy: r.healthy },
          at,
        });
      } else book.clear('rpo', name, v.name, at, `replica of ${v.name} is within its RPO again${r.lagSeconds !== null ? ` (${describeSeconds(r.lagSeconds)} old)` : ''}`);
    }
    for (const a of book.list('rpo', name)) {
      const v = vms.get(a.subject);
      if (!v) book.clear('rpo', name, a.subject, at, `${a.subject} is no longer in the cluster`);
      else if (!v.replication) book.clear('rpo', name, a.subject, at, `${a.subject} no longer reports a replica`);
    }
  }
}

function names(list: readonly string[], max = 5): string {
  return list.length <= max ? list.join(', ') : `${list.slice(0, max).join(', ')} and ${list.length - max} more`;
}

function describeSeconds(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 360) / 10} h`;
}
