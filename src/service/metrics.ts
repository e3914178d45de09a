/**
 * Prometheus metrics (`GET /metrics`). Gauges are read from the
 * controller's status when scraped, so they can never drift from what
 * `status` says; counters and histograms are fed by the decision log and
 * by the reconcile loop, as things happen.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision, DecisionLog } from '../decisions.js';
import type { StatusReport } from './status.js';
import type { HookMetrics } from './hooks/types.js';

export interface ServiceMetrics {
  readonly registry: Registry;
  /** One reconcile of a cluster finished: how long it took, and whether the cluster answered. */
  observePoll(cluster: string, provider: string, seconds: number, ok: boolean): void;
  /** A webhook answered (fed by the hook routes). */
  countWebhook(source: string, status: number): void;
  readonly leadershipChanges: Counter;
  /** For the webhook receivers. */
  readonly hooks: HookMetrics;
  /** For the alert receivers: sent and failed by receiver, dropped by receiver and reason. */
  readonly alerts: { readonly sent: Counter; readonly failed: Counter; readonly dropped: Counter };
  stop(): void;
}

const PROTECTED_KINDS = new Set(['on']);

export function createMetrics(status: () => StatusReport, decisions: DecisionLog): ServiceMetrics {
  const registry = new Registry();
  // Standard names (process_*, nodejs_*), so the usual Node.js dashboards work as they are.
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'vigil_hosts',
    help: "Hosts by the manager's state and Vigil's health",
    labelNames: ['cluster', 'state', 'health'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) for (const h of c.hosts) this.inc({ cluster: c.name, state: h.state, health: h.health });
    },
  });
  new Gauge({
    name: 'vigil_vms',
    help: 'Running VMs, protected (a restart elsewhere is planned for them if their host fails) or not',
    labelNames: ['cluster', 'protection'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) {
        const waiting = new Set([...c.unplaced.map((u) => u.vm), ...c.awaitingFence.map((w) => w.vm)]);
        for (const v of c.vms) {
          if (!PROTECTED_KINDS.has(v.power)) continue;
          // A VM no other host can run (local storage) is no more protected than one waiting for a host.
          this.inc({ cluster: c.name, protection: waiting.has(v.name) || v.protection?.state === 'unprotected' ? 'unprotected' : 'protected' });
        }
      }
    },
  });
  new Gauge({
    name: 'vigil_vms_waiting',
    help: 'VMs of failed hosts that are not running yet, by why',
    labelNames: ['cluster', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) {
        this.set({ cluster: c.name, reason: 'unplaced' }, c.unplaced.length);
        this.set({ cluster: c.name, reason: 'awaiting_fence' }, c.awaitingFence.length);
        this.set({ cluster: c.name, reason: 'in_flight' }, c.inflight.length);
      }
    },
  });
  new Gauge({
    name: 'vigil_cluster_frozen',
    help: '1 when automation is frozen for the cluster',
    labelNames: ['cluster'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) this.set({ cluster: c.name }, c.frozen ? 1 : 0);
    },
  });
  new Gauge({
    name: 'vigil_failover_capacity_hosts',
    help: 'Host failures the cluster tolerates under its policies, and how many policy wants',
    labelNames: ['cluster', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) {
        if (!c.capacity) continue;
        this.set({ cluster: c.name, kind: 'tolerated' }, c.capacity.tolerates);
        this.set({ cluster: c.name, kind: 'required' }, c.capacity.required);
      }
    },
  });

  // Storage: unknown figures are left out (no sample), never exported as 0.
  const GIB = 1024 ** 3;
  new Gauge({
    name: 'vigil_datastore_free_bytes',
    help: 'Free space of a datastore, where the provider reports it',
    labelNames: ['cluster', 'datastore'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) for (const d of c.datastores) if (d.freeGiB !== null) this.set({ cluster: c.name, datastore: d.name }, d.freeGiB * GIB);
    },
  });
  new Gauge({
    name: 'vigil_datastore_capacity_bytes',
    help: 'Capacity of a datastore, where the provider reports it',
    labelNames: ['cluster', 'datastore'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) for (const d of c.datastores) if (d.capacityGiB !== null) this.set({ cluster: c.name, datastore: d.name }, d.capacityGiB * GIB);
    },
  });
  new Gauge({
    name: 'vigil_datastore_hosts',
    help: 'Hosts that mount a datastore, by access: accessible (degraded ones included), lost, degraded',
    labelNames: ['cluster', 'datastore', 'access'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) {
        for (const d of c.datastores) {
          const lost = d.accessible ? d.inaccessibleOn.filter((h) => d.hosts.includes(h)).length : d.hosts.length;
          this.set({ cluster: c.name, datastore: d.name, access: 'accessible' }, d.hosts.length - lost);
          this.set({ cluster: c.name, datastore: d.name, access: 'lost' }, lost);
          if (d.degradedOn) this.set({ cluster: c.name, datastore: d.name, access: 'degraded' }, d.degradedOn.length);
        }
      }
    },
  });
  new Gauge({
    name: 'vigil_datastore_full_in_days',
    help: 'Days until a datastore is full at the rate fitted over recent samples; absent when it is not filling or there is too little history',
    labelNames: ['cluster', 'datastore'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) for (const d of c.datastores) if (typeof d.fullInDays === 'number') this.set({ cluster: c.name, datastore: d.name }, d.fullInDays);
    },
  });
  new Gauge({
    name: 'vigil_vm_replication_lag_seconds',
    help: "Age of a VM's replica (time since its last completed sync); absent when it never synced or the platform does not say",
    labelNames: ['cluster', 'vm', 'target'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) for (const v of c.vms) if (v.replication && v.replication.lagSeconds !== null) this.set({ cluster: c.name, vm: v.name, target: v.replication.target }, v.replication.lagSeconds);
    },
  });
  new Gauge({
    name: 'vigil_vm_replication_rpo_seconds',
    help: "The RPO a policy sets for a VM's replica",
    labelNames: ['cluster', 'vm'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of status().clusters) for (const v of c.vms) if (v.replication?.rpoSeconds !== undefined) this.set({ cluster: c.name, vm: v.name }, v.replication.rpoSeconds);
    },
  });

  const actions = new Counter({ name: 'vigil_actions_total', help: 'Actions carried out, by type and outcome', labelNames: ['cluster', 'action', 'outcome'], registers: [registry] });
  const apiErrors = new Counter({ name: 'vigil_provider_errors_total', help: 'Failed reads of a cluster, by provider', labelNames: ['cluster', 'provider'], registers: [registry] });
  const failoverSeconds = new Histogram({
    name: 'vigil_failover_seconds',
    help: 'Time from a host being declared failed to each of its VMs running elsewhere',
    labelNames: ['cluster'],
    buckets: [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600],
    registers: [registry],
  });
  const polls = new Histogram({ name: 'vigil_poll_duration_seconds', help: 'Duration of one reconcile of a cluster', labelNames: ['cluster', 'provider', 'ok'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers: [registry] });
  const webhooks = new Counter({ name: 'vigil_webhook_requests_total', help: 'Webhook requests, by source and HTTP status', labelNames: ['source', 'status'], registers: [registry] });
  const leadershipChanges = new Counter({ name: 'vigil_leadership_changes_total', help: 'Times this replica gained or lost the leadership of a cluster', labelNames: ['cluster', 'change'], registers: [registry] });
  const hookEvents = new Counter({ name: 'vigil_webhook_events_total', help: 'Webhook events by what became of them', labelNames: ['source', 'outcome'], registers: [registry] });
  const alertsSent = new Counter({ name: 'vigil_alerts_sent_total', help: 'Alert notifications delivered, by receiver', labelNames: ['receiver'], registers: [registry] });
  const alertsFailed = new Counter({ name: 'vigil_alerts_failed_total', help: 'Alert notifications that could not be delivered after retries, by receiver', labelNames: ['receiver'], registers: [registry] });
  const alertsDropped = new Counter({ name: 'vigil_alerts_dropped_total', help: 'Alert notifications dropped (queue full, shutdown), by receiver and reason', labelNames: ['receiver', 'reason'], registers: [registry] });
  const decisionCount = new Counter({ name: 'vigil_decisions_total', help: 'Decisions recorded, by kind', labelNames: ['cluster', 'kind'], registers: [registry] });

  const failedAt = new Map<string, number>();
  const providerOf = (cluster: string) => status().clusters.find((c) => c.name === cluster)?.provider ?? 'unknown';
  const unsubscribe = decisions.subscribe((d: Decision) => {
    decisionCount.inc({ cluster: d.cluster, kind: d.kind });
    if (d.kind === 'host-health' && d.data?.to === 'failed') failedAt.set(`${d.cluster}/${d.subject}`, d.at);
    if (d.kind === 'host-health' && (d.data?.to === 'healthy' || d.data?.to === 'recovering')) failedAt.delete(`${d.cluster}/${d.subject}`);
    if (d.kind === 'action-succeeded' || d.kind === 'action-failed') {
      const action = typeof d.data?.action === 'string' ? d.data.action : 'unknown';
      actions.inc({ cluster: d.cluster, action, outcome: d.kind === 'action-succeeded' ? 'success' : 'failure' });
      const from = typeof d.data?.from === 'string' ? d.data.from : undefined;
      const since = from ? failedAt.get(`${d.cluster}/${from}`) : undefined;
      if (d.kind === 'action-succeeded' && action === 'restart' && since !== undefined) failoverSeconds.observe({ cluster: d.cluster }, (d.at - since) / 1000);
    }
    if (d.kind === 'poll-failed') apiErrors.inc({ cluster: d.cluster, provider: providerOf(d.cluster) });
  });

  return {
    registry,
    observePoll: (cluster, provider, seconds, ok) => polls.observe({ cluster, provider, ok: ok ? 'true' : 'false' }, seconds),
    countWebhook: (source, status) => webhooks.inc({ source, status: String(status) }),
    leadershipChanges,
    hooks: {
      request: (source, status) => webhooks.inc({ source, status: String(status) }),
      duplicate: (source) => hookEvents.inc({ source, outcome: 'duplicate' }),
      rateLimited: (source) => hookEvents.inc({ source, outcome: 'rate_limited' }),
      hint: (source) => hookEvents.inc({ source, outcome: 'hint' }),
      coalesced: (source) => hookEvents.inc({ source, outcome: 'coalesced' }),
      unresolved: (source) => hookEvents.inc({ source, outcome: 'unresolved' }),
      ignored: (source) => hookEvents.inc({ source, outcome: 'ignored' }),
    },
    alerts: { sent: alertsSent, failed: alertsFailed, dropped: alertsDropped },
    stop: unsubscribe,
  };
}
