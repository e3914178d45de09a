/**
 * Spreading clusters over replicas. Each replica registers itself under
 * `P replicas/<name>` on its own lease, so every replica sees the same
 * list of live ones. From that list and the configured clusters (the same
 * config on every replica), each cluster has a preferred replica: clusters
 * and replicas sorted by name, the i-th cluster to the (i mod R)-th
 * replica. A replica campaigns at once for the clusters it is preferred
 * for, and a little later for the others, so replicas that start together
 * split the clusters; a leader that is not preferred hands an idle cluster
 * over once the preferred replica has been up for a while (election.ts).
 * Spreading only ever decides who campaigns when: etcd's election alone
 * decides who leads.
 */
import { performance } from 'node:perf_hooks';
import type { Etcd3, Lease } from 'etcd3';
import { ErrorCodes, messageOf, VigilError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Layout } from './keys.js';
import type { StateView } from './view.js';

export interface SpreadOptions {
  readonly client: Etcd3;
  readonly layout: Layout;
  readonly view: StateView;
  readonly replica: string;
  readonly clusters: readonly string[];
  readonly ttlMs: number;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
  /** Delay between ranks when campaigning (default a quarter of the TTL, at most 1 s). */
  readonly stepMs?: number;
}

export class Spread {
  private lease: Lease | undefined;
  private readonly firstSeen = new Map<string, number>();
  private readonly stepMs: number;

  constructor(private readonly o: SpreadOptions) {
    this.stepMs = o.stepMs ?? Math.min(1_000, Math.floor(o.ttlMs / 4));
  }

  /**
   * Registers this replica. A live replica already registered under the
   * same name is a configuration mistake (two replicas would report as
   * one); one that died keeps its key until its lease runs out, so wait
   * that long before refusing.
   */
  async register(waitMs: number): Promise<void> {
    const { client, layout, replica } = this.o;
    const key = layout.replica(replica);
    const deadline = performance.now() + waitMs;
    for (;;) {
      const lease = client.lease(Math.round(this.o.ttlMs / 1000));
      lease.on('lost', (e) => {
        if (this.lease !== lease) return;
        this.o.logger.warn({ err: messageOf(e) }, `etcd: this replica's registration lapsed (${messageOf(e)}); registering again`);
        this.lease = undefined;
        setTimeout(() => void this.register(0).catch(() => undefined), 500);
      });
      const id = await lease.grant();
      const res = await client
        .if(key, 'Create', '==', 0)
        .then(client.put(key).value(JSON.stringify({ name: replica, pid: process.pid, since: new Date().toISOString() })).lease(id))
        .commit();
      if (res.succeeded) {
        this.lease = lease;
        return;
      }
      await lease.revoke().catch(() => undefined);
      if (performance.now() >= deadline) {
        throw new VigilError(
          ErrorCodes.CONFIG_INVALID,
          `another live replica is registered in etcd as "${replica}": give each replica its own state.etcd.replicaName (or leave it out: hostname and pid)`,
          { expected: true },
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Live replicas, by name. */
  live(): string[] {
    const names = [...this.o.view.replicas.keys()];
    if (!names.includes(this.o.replica)) names.push(this.o.replica);
    const now = performance.now();
    for (const n of names) if (!this.firstSeen.has(n)) this.firstSeen.set(n, now);
    for (const n of [...this.firstSeen.keys()]) if (!names.includes(n)) this.firstSeen.delete(n);
    return names.sort();
  }

  /** The replica that should lead the cluster, among the live ones. */
  preferred(cluster: string): string | undefined {
    const replicas = this.live();
    const clusters = [...this.o.clusters].sort();
    const i = clusters.indexOf(cluster);
    if (i < 0 || !replicas.length) return undefined;
    return replicas[i % replicas.length];
  }

  /** How long to wait before campaigning for the cluster: nothing when preferred, a step per rank after it. */
  campaignDelay(cluster: string): number {
    const replicas = this.live();
    const clusters = [...this.o.clusters].sort();
    const i = clusters.indexOf(cluster);
    const me = replicas.indexOf(this.o.replica);
    if (i < 0 || me < 0) return 0;
    const rank = (me - (i % replicas.length) + replicas.length) % replicas.length;
    return rank * this.stepMs;
  }

  /** The replica has been seen live for at least `ms`. */
  settled(name: string, ms: number): boolean {
    this.live();
    const t = this.firstSeen.get(name);
    return t !== undefined && performance.now() - t >= ms;
  }

  /** Stops renewing the registration without removing it (crash tests). */
  abandon(): void {
    this.lease?.release();
    this.lease = undefined;
  }

  async close(): Promise<void> {
    const l = this.lease;
    this.lease = undefined;
    await l?.revoke().catch(() => undefined);
  }
}
