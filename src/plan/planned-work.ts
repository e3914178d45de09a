/**
 * Planned work as data: a migration, an evacuation, a return from
 * maintenance or a rebalance. A plan lists every action with its reason,
 * the VMs that cannot move and why, and each host's load before and after,
 * so a person reads all of it before anything runs. Planners are pure: the
 * same input gives the same plan; nothing here calls a provider.
 *
 * A plan runs in phases: a phase starts only when every action of the one
 * before succeeded (an evacuation enters maintenance only once the host is
 * empty).
 */
import type { Action, MigrateAction } from '../model/actions.js';
import type { ClusterSnapshot } from '../model/inventory.js';
import type { HostHealth } from '../health/types.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { ProviderCapabilities } from '../provider.js';

export type PlannedKind = 'migrate' | 'evacuate' | 'resume' | 'rebalance';

/** What every planned-work planner reads. */
export interface PlannedInput {
  readonly snapshot: ClusterSnapshot;
  readonly health: ReadonlyMap<string, HostHealth>;
  readonly policies: PolicySet;
  /** Actions accepted and not finished: their VMs are not moved again, their targets are reserved. */
  readonly inflight: readonly Action[];
  readonly now: number;
  /** What the cluster's provider can do (default: everything). */
  readonly capabilities?: Pick<ProviderCapabilities, 'liveMigration' | 'maintenanceMode' | 'powerOff'>;
}

/** A host's load as a share of what policy allows (memory and CPU after their overcommit ratios). */
export interface LoadFigures {
  readonly memoryPercent: number;
  readonly cpuPercent: number;
  readonly usedMemoryGiB: number;
  readonly usedCpu: number;
  readonly vms: number;
}

export interface HostLoadChange {
  readonly host: string;
  /** Vigil's health of the host, or the manager's word when it is not healthy-and-connected. */
  readonly state: string;
  /** A dedicated failover host (never takes planned VMs), the host being evacuated, or the one leaving maintenance. */
  readonly role?: 'failover' | 'evacuated' | 'resumed';
  readonly before: LoadFigures;
  readonly after: LoadFigures;
}

/**
 * Standard deviations across the hosts that take planned VMs, in percentage
 * points: of host load (the larger of a host's memory and CPU use), and of
 * memory and CPU use each.
 */
export interface Spread {
  readonly load: number;
  readonly memory: number;
  readonly cpu: number;
}

/** A VM the plan cannot move, and why. */
export interface Blocked {
  readonly vm: string;
  readonly host: string;
  readonly reason: string;
}

export interface PlannedWork {
  readonly kind: PlannedKind;
  readonly cluster: string;
  /** Clock time the plan was made for. */
  readonly at: number;
  /** One line: what the plan does. */
  readonly title: string;
  readonly phases: readonly (readonly Action[])[];
  readonly blocked: readonly Blocked[];
  /** What a person should know that is not an action (VMs that stay, capacity after). */
  readonly notes: readonly string[];
  /** Set when the plan must not run as asked; nothing moves. */
  readonly refused?: string;
  readonly hosts: readonly HostLoadChange[];
  readonly spread: { readonly before: Spread; readonly after: Spread };
}

export function planActions(p: PlannedWork): Action[] {
  return p.phases.flat();
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `3 live migrations`, or `2 live migrations and 1 restart migration` when some VMs (containers) can only move by a restart. */
export function migrationsPhrase(moves: readonly MigrateAction[]): string {
  const restarts = moves.filter((m) => m.byRestart).length;
  const live = moves.length - restarts;
  return [live ? plural(live, 'live migration') : '', restarts ? plural(restarts, 'restart migration') + ' (a short outage each)' : ''].filter(Boolean).join(' and ');
}

/** `1 live migration`, `3 live migrations`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
