/**
 * Plans are data. The planner produces actions, each with the reason a
 * person would want to read; the executor carries them out; `--dry-run`
 * and `simulate` print them. Nothing here does I/O.
 */
export type Priority = 'highest' | 'high' | 'medium' | 'low' | 'lowest' | 'disabled';
/** Restart order, first to last. `disabled` never restarts. */
export const RESTART_ORDER: readonly Exclude<Priority, 'disabled'>[] = ['highest', 'high', 'medium', 'low', 'lowest'];
export const PRIORITIES: readonly Priority[] = [...RESTART_ORDER, 'disabled'];

export interface RestartAction {
  readonly type: 'restart';
  readonly cluster: string;
  readonly vm: string;
  readonly vmId: string;
  readonly from: string;
  readonly to: string;
  readonly toId: string;
  readonly priority: Exclude<Priority, 'disabled'>;
  /** Counts from 1 in restart order. */
  readonly wave: number;
  readonly reason: string;
  /** VMs of this plan that must be running before this one starts (restart orchestration)... */
  readonly after?: readonly string[];
  /** ...waited for at most this long. */
  readonly afterTimeoutMs?: number;
  /**
   * `storage-loss`: the VM died on a host that is still up but lost a
   * datastore it uses (not set: its host failed). The controller re-checks
   * such a restart just before it runs: the VM must still be off.
   */
  readonly cause?: 'storage-loss';
  /** Set when the VM starts from its replica on `to`: the writes since this sync (clock ms) are lost. */
  readonly fromReplica?: { readonly lastSyncAt: number };
}

export interface MigrateAction {
  readonly type: 'migrate';
  readonly cluster: string;
  readonly vm: string;
  readonly vmId: string;
  readonly from: string;
  readonly to: string;
  readonly toId: string;
  readonly live: boolean;
  readonly reason: string;
  /** `storage-loss`: moves a running VM off a host that lost a datastore it uses; re-checked before it runs. */
  readonly cause?: 'storage-loss';
  /** The running VM moves by a restart on the target (a Proxmox container): a short outage. */
  readonly byRestart?: true;
}

export interface MaintenanceAction {
  readonly type: 'maintenance';
  readonly cluster: string;
  readonly host: string;
  readonly hostId: string;
  readonly enter: boolean;
  readonly reason: string;
}

/** Planned work only (`vigil evacuate --force`): a VM that cannot move is powered off so its host can enter maintenance. */
export interface PowerOffAction {
  readonly type: 'poweroff';
  readonly cluster: string;
  readonly vm: string;
  readonly vmId: string;
  /** The host it runs on. */
  readonly host: string;
  readonly reason: string;
}

export type Action = RestartAction | MigrateAction | MaintenanceAction | PowerOffAction;

/** A VM that policy says to restart but that no host can take now. */
export interface Unplaced {
  readonly vm: string;
  readonly vmId: string;
  readonly cluster: string;
  readonly from: string;
  readonly priority: Exclude<Priority, 'disabled'>;
  readonly reason: string;
}

export interface Plan {
  readonly cluster: string;
  /** The clock time the plan was made for. */
  readonly at: number;
  readonly actions: readonly Action[];
  readonly unplaced: readonly Unplaced[];
}

/** The key that identifies an action's subject, for journals and dedup. */
export function actionKey(a: Action): string {
  return a.type === 'maintenance' ? `host:${a.cluster}/${a.host}` : `vm:${a.cluster}/${a.vmId}`;
}
