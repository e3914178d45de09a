/**
 * Threshold alerts over the status report: host CPU and memory use, and
 * datastore free space, each with warning and critical levels, hysteresis
 * and a hold time (see hysteresis.ts). Evaluated at the times it is called
 * with, so the same code runs on the real clock and in simulated time.
 *
 * Host figures: a measured percentage when the provider reports one
 * (`cpuUsagePercent`, `memoryUsagePercent` on the status host). Memory
 * falls back to what the running VMs are allocated (`usedMemoryGiB /
 * memoryGiB`); CPU does not, because vCPUs are routinely overcommitted
 * (4 vCPUs per core is ordinary) and an allocation over 100% says nothing
 * about a host running hot. A datastore whose capacity or free space is unknown is never
 * reported full or empty.
 */
import type { StatusHost, StatusReport } from '../service/status.js';
import type { AlertKind } from './alert.js';
import type { AlertBook } from './book.js';
import type { ThresholdsConfig } from './config.js';
import { Hysteresis, type LevelsSpec } from './hysteresis.js';
import { describeFullIn } from '../storage/forecast.js';

/** Optional measured figures a provider may add to a status host. */
export interface MeasuredHost extends StatusHost {
  readonly cpuUsagePercent?: number | null;
  readonly memoryUsagePercent?: number | null;
}

/** Host health states in which usage is not evaluated: the host runs nothing of ours. */
const OUT_OF_SERVICE = new Set(['failed', 'fenced', 'maintenance']);

type ThresholdKind = Extract<AlertKind, 'host-cpu' | 'host-memory' | 'datastore-free'>;

interface Watch {
  readonly levels: Hysteresis;
  readonly spec: LevelsSpec;
  severity: 'warning' | 'critical' | null;
}

export class ThresholdAlerts {
  private readonly watches = new Map<string, Watch>();
  private readonly specs: Record<ThresholdKind, LevelsSpec | null>;

  constructor(
    private readonly book: AlertBook,
    config: ThresholdsConfig,
  ) {
    const spec = (c: ThresholdsConfig['hostCpu'], direction: 'above' | 'below'): LevelsSpec | null => (c.enabled ? { direction, warning: c.warning, critical: c.critical, margin: c.margin, holdMs: c.for } : null);
    this.specs = { 'host-cpu': spec(config.hostCpu, 'above'), 'host-memory': spec(config.hostMemory, 'above'), 'datastore-free': spec(config.datastoreFree, 'below') };
  }

  evaluate(report: StatusReport, at: number): void {
    const seen = new Set<string>();
    const outOfService = new Map<string, string>();
    for (const c of report.clusters) {
      for (const h of c.hosts as readonly MeasuredHost[]) {
        const out = OUT_OF_SERVICE.has(h.health);
        if (out) for (const k of ['host-cpu', 'host-memory']) outOfService.set(watchKey(k, c.name, h.name), `${h.name} is ${h.health}; its use is not evaluated`);
        const cpu = measured(h.cpuUsagePercent);
        const mem = measured(h.memoryUsagePercent) ?? ratio(h.usedMemoryGiB, h.memoryGiB);
        const memBasis = measured(h.memoryUsagePercent) !== null ? 'measured' : 'allocated';
        this.check('host-cpu', c.name, h.name, out ? undefined : cpu, at, seen, (v, lvl) => `Host ${h.name} (cluster ${c.name}) CPU use is ${fmt(v)}% (measured), at or over the ${lvl}% level. Move VMs off it or add hosts.`, { host: h.name, basis: 'measured' });
        this.check('host-memory', c.name, h.name, out ? undefined : mem, at, seen, (v, lvl) => `Host ${h.name} (cluster ${c.name}) memory use is ${fmt(v)}% (${memBasis}${memBasis === 'allocated' ? `: ${fmt(h.usedMemoryGiB)} of ${fmt(h.memoryGiB)} GiB` : ''}), at or over the ${lvl}% level. Move VMs off it or add memory.`, { host: h.name, basis: memBasis });
      }
      for (const d of c.datastores) {
        const free = d.capacityGiB !== null && d.freeGiB !== null && d.capacityGiB > 0 ? (d.freeGiB / d.capacityGiB) * 100 : null;
        // The controller's levels for this datastore (a ClusterPolicy's storage.freeWarning/freeCritical, else these same settings): one pair of levels, shown and alerted alike.
        const levels = d.levels ? { warning: d.levels.warningPercent < 0 ? null : d.levels.warningPercent, critical: d.levels.criticalPercent < 0 ? null : d.levels.criticalPercent } : undefined;
        this.check('datastore-free', c.name, d.name, free, at, seen, (v, lvl) => `Datastore ${d.name} (cluster ${c.name}) has ${fmt(v)}% free (${fmt(d.freeGiB ?? 0)} of ${fmt(d.capacityGiB ?? 0)} GiB), at or under the ${lvl}% level${d.levels?.source === 'policy' ? ' (cluster policy)' : ''}${typeof d.fullInDays === 'number' ? `; ${describeFullIn(d.fullInDays)}` : ''}. Free space or grow it before VMs on it stop.`, { datastore: d.name, freeGiB: d.freeGiB, capacityGiB: d.capacityGiB, fullInDays: d.fullInDays ?? null }, levels);
      }
    }
    // Hosts and datastores that left the report: their alerts end and their state is forgotten.
    for (const [key, w] of this.watches) {
      if (seen.has(key)) continue;
      const [kind, cluster, subject] = splitKey(key);
      if (w.severity) this.book.clear(kind, cluster, subject, at, outOfService.get(key) ?? `${subject} is no longer reported`);
      this.watches.delete(key);
    }
  }

  /**
   * `value` undefined: the subject is out of service (clears and forgets);
   * null: unknown (no change); a number: evaluated.
   */
  private check(kind: ThresholdKind, cluster: string, subject: string, value: number | null | undefined, at: number, seen: Set<string>, summary: (value: number, level: number) => string, details: Record<string, unknown>, levels?: { warning: number | null; critical: number | null }): void {
    const base = this.specs[kind];
    if (!base) return;
    const spec = levels ? { ...base, ...levels } : base;
    const key = watchKey(kind, cluster, subject);
    if (value === undefined) return; // not in `seen`: cleared and forgotten below
    seen.add(key);
    let w = this.watches.get(key);
    if (!w || w.spec.warning !== spec.warning || w.spec.critical !== spec.critical) {
      // New levels (a policy reload) start the watch again: an alert in force resolves, and fires again after the hold if the new levels still cover it.
      w = { levels: new Hysteresis(spec), spec, severity: w?.severity ?? null };
      this.watches.set(key, w);
    }
    const reading = w.levels.observe(value, at);
    const was = w.severity;
    w.severity = reading.severity;
    if (reading.severity && value !== null && reading.level !== undefined) {
      this.book.raise({ kind, cluster, subject, severity: reading.severity, summary: summary(value, reading.level), details: { ...details, value: round(value), level: reading.level, margin: spec.margin }, at });
    } else if (reading.severity && value === null) {
      // Unknown now, still in force: keep the alert (and its last figures) as it is.
    } else if (was) {
      const shown = value === null ? 'unknown' : `${fmt(value)}%`;
      this.book.clear(kind, cluster, subject, at, `${kind === 'datastore-free' ? 'free space' : kind === 'host-cpu' ? 'CPU use' : 'memory use'} is ${shown}, back past the level by the ${spec.margin}-point margin`, value === null ? {} : { value: round(value) });
    }
  }
}

function measured(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function ratio(used: number, total: number): number | null {
  return total > 0 && Number.isFinite(used) ? (used / total) * 100 : null;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function fmt(v: number): string {
  return String(round(v));
}

function watchKey(kind: string, cluster: string, subject: string): string {
  return `${kind}\u0000${cluster}\u0000${subject}`;
}

function splitKey(key: string): [ThresholdKind, string, string] {
  const [kind, cluster, subject] = key.split('\u0000');
  return [kind as ThresholdKind, cluster ?? '', subject ?? ''];
}
