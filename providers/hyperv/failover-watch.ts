/**
 * Times the cluster's own failover, from snapshot to snapshot: when a node
 * goes from a member to notResponding, the clustered roles last seen on it
 * are watched until the cluster has them online elsewhere (reported with
 * how long it took, to the precision of the poll interval) or leaves them
 * Failed (reported as handed to Vigil). It only observes and tells; the
 * decisions stay with the controller.
 */
import type { ClusterSnapshot } from '../../src/model/inventory.js';
import { MANAGED_BY_CLUSTER } from './snapshot-map.js';

export interface FailoverEvent {
  readonly kind: 'cluster-restarted' | 'cluster-gave-up';
  readonly vm: string;
  readonly from: string;
  readonly to?: string;
  /** At most this long after the node was last seen up (the precision is one poll). */
  readonly withinMs: number;
}

interface Watched {
  readonly vm: string;
  readonly from: string;
  readonly since: number;
}

export class FailoverWatch {
  private previous?: ClusterSnapshot;
  private readonly watching = new Map<string, Watched>();

  observe(s: ClusterSnapshot): FailoverEvent[] {
    const events: FailoverEvent[] = [];
    const prev = this.previous;
    this.previous = s;
    if (prev) {
      const wasUp = new Set(prev.hosts.filter((h) => h.state !== 'notResponding').map((h) => h.name));
      const nowDown = new Set(s.hosts.filter((h) => h.state === 'notResponding' && wasUp.has(h.name)).map((h) => h.name));
      for (const v of prev.vms) {
        if (nowDown.has(v.host) && v.managedBy === MANAGED_BY_CLUSTER && v.power === 'on' && !this.watching.has(v.id)) {
          this.watching.set(v.id, { vm: v.name, from: v.host, since: prev.takenAt });
        }
      }
    }
    const byId = new Map(s.vms.map((v) => [v.id, v]));
    for (const [id, w] of this.watching) {
      const v = byId.get(id);
      if (!v) {
        this.watching.delete(id);
        continue;
      }
      if (v.host !== w.from && v.power === 'on') {
        events.push({ kind: 'cluster-restarted', vm: w.vm, from: w.from, to: v.host, withinMs: s.takenAt - w.since });
        this.watching.delete(id);
      } else if (v.managedBy !== MANAGED_BY_CLUSTER) {
        events.push({ kind: 'cluster-gave-up', vm: w.vm, from: w.from, withinMs: s.takenAt - w.since });
        this.watching.delete(id);
      }
    }
    return events;
  }
}
