/**
 * Vigil's own judgement of each host, as opposed to the manager's word
 * (`Host.state`). Detection is pure: the controller gathers evidence (a
 * snapshot, probe results, alarm hints) and a detector turns it into health
 * states; no detector does I/O or reads a clock.
 *
 * | state       | meaning                                                        | placement | restarts its VMs |
 * |-------------|----------------------------------------------------------------|-----------|------------------|
 * | healthy     | the manager and the probes see it working                      | yes       | no               |
 * | suspect     | some evidence of failure, not yet enough                       | no        | no               |
 * | failed      | enough evidence over time that it is down                      | no        | when fenced or fencing not required |
 * | fenced      | proven off (power fenced or confirmed by an operator)          | no        | yes              |
 * | isolated    | the manager sees it, the controller's probe does not: warn     | no        | no               |
 * | maintenance | the operator took it out of service                            | no        | no               |
 */
import type { ClusterSnapshot } from '../model/inventory.js';

export type HostHealthState = 'healthy' | 'suspect' | 'failed' | 'fenced' | 'isolated' | 'maintenance' | 'quarantined';

export interface HostHealth {
  readonly host: string;
  readonly state: HostHealthState;
  /** Clock time the host entered this state. */
  readonly since: number;
  readonly reason: string;
}

export interface HealthTransition {
  readonly host: string;
  readonly from: HostHealthState | 'unknown';
  readonly to: HostHealthState;
  readonly at: number;
  readonly reason: string;
}

/** An alarm or webhook that says something about a host; a hint, never proof. */
export interface HostHint {
  readonly host: string;
  readonly at: number;
  readonly source: string;
  readonly message: string;
}

export interface Evidence {
  readonly now: number;
  readonly snapshot: ClusterSnapshot;
  /** Result of the controller's own probe per host, where one ran. */
  readonly probes?: ReadonlyMap<string, boolean>;
  readonly hints?: readonly HostHint[];
}

export interface HealthView {
  readonly hosts: ReadonlyMap<string, HostHealth>;
  readonly transitions: readonly HealthTransition[];
}

export interface FailureDetector {
  /** Folds one round of evidence into the hosts' states. */
  observe(evidence: Evidence): HealthView;
  current(): ReadonlyMap<string, HostHealth>;
}

/** States in which a host must not receive VMs. */
export function isPlaceable(state: HostHealthState | undefined): boolean {
  return state === 'healthy';
}
