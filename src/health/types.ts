/**
 * Vigil's own judgement of each host, as opposed to the manager's word
 * (`Host.state`). Detection is pure: the controller gathers evidence (a
 * snapshot, its own probes, alarm hints) and a detector turns it into health
 * states; no detector does I/O or reads a clock.
 *
 * | state       | meaning                                                              | receives VMs | its VMs restart elsewhere |
 * |-------------|----------------------------------------------------------------------|--------------|---------------------------|
 * | healthy     | the manager and the probe see it working                             | yes          | no                        |
 * | suspect     | some evidence of failure, not yet enough; or alive but lost by the manager | no     | no                        |
 * | failed      | manager and probe agree it is down, over the confirmation window     | no           | once fenced (or when policy needs no fence) |
 * | fenced      | proven off: by a BMC, the platform, or an operator's confirmation    | no           | yes                       |
 * | recovering  | was failed or fenced and answers again; settling before it is trusted| no           | no                        |
 * | isolated    | the manager sees it, the controller's probe does not (warn)          | no           | no                        |
 * | quarantined | flapping: failed and came back too often lately                      | no           | no (while it answers)     |
 * | maintenance | taken out of service by a person                                     | no           | no                        |
 */
import type { ClusterSnapshot } from '../model/inventory.js';

export type HostHealthState = 'healthy' | 'suspect' | 'failed' | 'fenced' | 'recovering' | 'isolated' | 'maintenance' | 'quarantined';

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
  /** Result of the controller's own probe per host; absent where no probe could run. */
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
  /** A failed (or suspect, when an operator vouches) host is proven off. */
  markFenced(host: string, at: number, reason: string): HealthTransition | undefined;
}

/** States in which a host must not receive VMs. */
export function isPlaceable(state: HostHealthState | undefined): boolean {
  return state === 'healthy';
}
