/**
 * Follows each failover (the restarts of one failed host's VMs) from its
 * first planned restart until every VM it covers is running again or was
 * given up on, so that one alert per failed host can open and close with a
 * tally, instead of one message per VM.
 */

export type VmOutcome = 'pending' | 'retrying' | 'restarted' | 'down' | 'dropped';

export interface Failover {
  readonly cluster: string;
  readonly host: string;
  readonly vms: Map<string, VmOutcome>;
  /** The last error of each VM whose restart failed. */
  readonly errors: Map<string, string>;
}

export interface FailoverTally {
  readonly vms: number;
  readonly restarted: string[];
  readonly retrying: string[];
  readonly pending: string[];
  readonly down: string[];
  readonly dropped: string[];
}

export class FailoverTracker {
  private readonly byHost = new Map<string, Failover>();
  /** cluster/vm -> the host it is being restarted from. */
  private readonly origin = new Map<string, string>();

  /** A restart of `vm` from `host` is planned; returns the failover and whether it is new. */
  planned(cluster: string, host: string, vm: string): { failover: Failover; opened: boolean } {
    const key = `${cluster}/${host}`;
    let failover = this.byHost.get(key);
    const opened = !failover;
    if (!failover) {
      failover = { cluster, host, vms: new Map(), errors: new Map() };
      this.byHost.set(key, failover);
    }
    failover.vms.set(vm, 'pending');
    this.origin.set(`${cluster}/${vm}`, host);
    return { failover, opened };
  }

  /** Records what became of a VM; returns its failover, if it belongs to one. */
  outcome(cluster: string, vm: string, outcome: VmOutcome, error?: string): Failover | undefined {
    const host = this.origin.get(`${cluster}/${vm}`);
    const failover = host === undefined ? undefined : this.byHost.get(`${cluster}/${host}`);
    if (!failover || !failover.vms.has(vm)) return undefined;
    failover.vms.set(vm, outcome);
    if (error) failover.errors.set(vm, error);
    return failover;
  }

  /** The host a VM is being restarted from, if a failover covers it. */
  originOf(cluster: string, vm: string): string | undefined {
    return this.origin.get(`${cluster}/${vm}`);
  }

  get(cluster: string, host: string): Failover | undefined {
    return this.byHost.get(`${cluster}/${host}`);
  }

  all(): Failover[] {
    return [...this.byHost.values()];
  }

  /** Forgets a failover once its alert is resolved. */
  close(f: Failover): void {
    this.byHost.delete(`${f.cluster}/${f.host}`);
    for (const vm of f.vms.keys()) if (this.origin.get(`${f.cluster}/${vm}`) === f.host) this.origin.delete(`${f.cluster}/${vm}`);
  }

  /** Finished when no VM is pending or retrying. */
  static finished(f: Failover): boolean {
    return [...f.vms.values()].every((o) => o === 'restarted' || o === 'down' || o === 'dropped');
  }

  static tally(f: Failover): FailoverTally {
    const of = (o: VmOutcome) => [...f.vms].filter(([, x]) => x === o).map(([vm]) => vm).sort();
    return { vms: f.vms.size, restarted: of('restarted'), retrying: of('retrying'), pending: of('pending'), down: of('down'), dropped: of('dropped') };
  }
}
