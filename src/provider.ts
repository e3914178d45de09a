/**
 * The contract every hypervisor plugin implements. Providers translate the
 * platform's API into the normalized model and carry out operations; they
 * never decide (no policy, no placement, no retry loops of their own beyond
 * what the platform's protocol needs).
 */
import type { ZodType } from 'zod';
import type { Clock } from './clock/clock.js';
import type { Logger } from './log.js';
import type { ClusterSnapshot } from './model/inventory.js';

/** Bumped when the interface below changes incompatibly; the loader refuses a mismatch. */
export const PROVIDER_CONTRACT_VERSION = 1;

export interface ProviderCapabilities {
  /** Can move a running VM without stopping it. */
  readonly liveMigration: boolean;
  /** Can start a failed host's VM on another host. */
  readonly restartElsewhere: boolean;
  readonly maintenanceMode: boolean;
  /** Reports datastore accessibility per host. */
  readonly storageHealth: boolean;
  /** Can push events (webhooks, update streams) rather than only be polled. */
  readonly events: boolean;
  readonly powerOff: boolean;
}

export interface VmRef {
  readonly id: string;
  readonly name: string;
}

export interface HostRef {
  readonly id: string;
  readonly name: string;
}

/** An operation in flight on the platform; opaque to everything but its provider. */
export interface TaskRef {
  readonly id: string;
  readonly op: string;
}

export type TaskState =
  | { readonly state: 'queued' | 'running'; readonly progress?: number }
  | { readonly state: 'success' }
  | { readonly state: 'error'; readonly message: string; readonly code?: string; readonly retryable?: boolean };

export interface Provider {
  readonly kind: string;
  readonly contractVersion: number;
  readonly capabilities: ProviderCapabilities;
  /** One call's worth of truth about the cluster; cheap enough to repeat every poll. */
  snapshot(signal?: AbortSignal): Promise<ClusterSnapshot>;
  migrate(vm: VmRef, to: HostRef, opts: { live: boolean }): Promise<TaskRef>;
  /** Starts a VM whose host failed on another host. Only called after fencing rules allow it. */
  restart(vm: VmRef, on: HostRef): Promise<TaskRef>;
  setMaintenance(host: HostRef, on: boolean): Promise<TaskRef>;
  powerOff?(vm: VmRef): Promise<TaskRef>;
  task(ref: TaskRef): Promise<TaskState>;
  /**
   * The controller's own probe of a host's management interface, where the
   * platform gives a better one than a TCP connect to Host.address (the lab).
   */
  probe?(host: HostRef): Promise<boolean>;
  /**
   * The platform's own proof that a host is down, where it has one (a
   * Proxmox node that lost quorum and whose HA lock the cluster took over,
   * a Hyper-V node the cluster reports Down). `proven: false` is not proof
   * of life; it only means the platform cannot vouch.
   */
  hostDownProof?(host: HostRef): Promise<{ readonly proven: boolean; readonly evidence: string }>;
  close(): Promise<void>;
}

/** What a provider gets from the controller when it is created. */
export interface ProviderContext {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Directory the config file lives in; relative paths in a cluster entry resolve against it. */
  readonly baseDir: string;
  /**
   * `service` for the long-running controller; `oneshot` for a CLI command
   * that reads and exits (a provider then starts no servers or scripts).
   */
  readonly purpose?: 'service' | 'oneshot';
}

/** A cluster entry of vigil.yaml after the common keys were checked. */
export interface ClusterConfig {
  readonly name: string;
  readonly provider: string;
  readonly [key: string]: unknown;
}

/** What `providers/<name>/index.ts` exports as its default. */
export interface ProviderModule<C extends ClusterConfig = ClusterConfig> {
  readonly name: string;
  readonly contractVersion: number;
  readonly capabilities: ProviderCapabilities;
  /** Validates the provider-specific keys of a cluster entry (positions are added by the config loader). */
  readonly configSchema: ZodType<C>;
  create(config: C, ctx: ProviderContext): Promise<Provider>;
}
