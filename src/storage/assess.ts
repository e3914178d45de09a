/**
 * The storage picture of one snapshot, per datastore and per host: who
 * mounts it, who lost it, who reaches it only degraded, how full it is
 * against its levels, and when it fills. Pure; the controller adds the
 * forecasts from its sample history, and the status report shows the result.
 *
 * Unknown stays unknown: a datastore without capacity figures has level
 * `unknown`, never `ok`, `warning` or `critical`.
 */
import type { ClusterSnapshot, Datastore } from '../model/inventory.js';
import type { Forecast } from './forecast.js';
import { DATASTORE_FREE } from '../alerts/config.js';

export type FreeLevel = 'ok' | 'warning' | 'critical' | 'unknown';

/**
 * `ok`: every host that mounts it reaches it; `degraded`: some reach it only
 * in a degraded way (a CSV in redirected access, a storage inactive on a
 * node); `lost-on-some`: some hosts lost it, others still reach it; `lost`:
 * no host reaches it.
 */
export type AccessCondition = 'ok' | 'degraded' | 'lost-on-some' | 'lost';

export interface FreeLevels {
  readonly warningPercent: number;
  readonly criticalPercent: number;
  /** Where the levels come from: the cluster's policy (`storage.freeWarning`), the alerts section, or Vigil's defaults. */
  readonly source: 'policy' | 'alerts' | 'default';
}

/** One default for the findings and the alert, so the two cannot drift apart. */
export const DEFAULT_FREE_LEVELS: FreeLevels = { warningPercent: DATASTORE_FREE.warning, criticalPercent: DATASTORE_FREE.critical, source: 'default' };

export interface DatastoreFinding {
  readonly name: string;
  /** Mounted on more than one host. */
  readonly shared: boolean;
  readonly condition: AccessCondition;
  /** Hosts that mount it and reach it (degraded ones included). */
  readonly reachableOn: readonly string[];
  readonly lostOn: readonly string[];
  readonly degradedOn: readonly string[];
  /** Free share of capacity in percent; null when either figure is unknown. */
  readonly freePercent: number | null;
  readonly level: FreeLevel;
  readonly levels: FreeLevels;
  readonly fullInDays: number | null;
  /** VMs with disks on it. */
  readonly vms: number;
}

export function freePercentOf(d: Pick<Datastore, 'capacityGiB' | 'freeGiB'>): number | null {
  if (d.capacityGiB === null || d.freeGiB === null || !(d.capacityGiB > 0)) return null;
  return Math.min(100, Math.max(0, (d.freeGiB / d.capacityGiB) * 100));
}

export function freeLevel(freePercent: number | null, levels: FreeLevels): FreeLevel {
  if (freePercent === null) return 'unknown';
  if (freePercent <= levels.criticalPercent) return 'critical';
  if (freePercent <= levels.warningPercent) return 'warning';
  return 'ok';
}

/** Hosts that lost the datastore: the ones listed, or every host when it is inaccessible as a whole. */
export function lostHosts(d: Datastore): string[] {
  if (!d.accessible) return [...d.hosts];
  const mounted = new Set(d.hosts);
  return d.inaccessibleOn.filter((h) => mounted.has(h));
}

export function accessCondition(d: Datastore): { condition: AccessCondition; lostOn: string[]; degradedOn: string[]; reachableOn: string[] } {
  const lostOn = lostHosts(d);
  const lost = new Set(lostOn);
  const degradedOn = (d.degradedOn ?? []).filter((h) => d.hosts.includes(h) && !lost.has(h));
  const reachableOn = d.hosts.filter((h) => !lost.has(h));
  const condition: AccessCondition = !d.accessible || (d.hosts.length > 0 && reachableOn.length === 0) ? 'lost' : lostOn.length ? 'lost-on-some' : degradedOn.length ? 'degraded' : 'ok';
  return { condition, lostOn, degradedOn, reachableOn };
}

export interface AssessOptions {
  readonly levels?: FreeLevels;
  readonly forecasts?: ReadonlyMap<string, Forecast>;
}

export function assessDatastores(snapshot: ClusterSnapshot, options: AssessOptions = {}): DatastoreFinding[] {
  const levels = options.levels ?? DEFAULT_FREE_LEVELS;
  const users = new Map<string, number>();
  for (const vm of snapshot.vms) for (const ds of vm.datastores) users.set(ds, (users.get(ds) ?? 0) + 1);
  return snapshot.datastores.map((d) => {
    const access = accessCondition(d);
    const freePercent = freePercentOf(d);
    return {
      name: d.name,
      shared: d.hosts.length > 1,
      ...access,
      freePercent: freePercent === null ? null : Math.round(freePercent * 10) / 10,
      level: freeLevel(freePercent, levels),
      levels,
      fullInDays: options.forecasts?.get(d.name)?.fullInDays ?? null,
      vms: users.get(d.name) ?? 0,
    };
  });
}
