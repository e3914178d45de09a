/**
 * Reads what a snapshot needs in as few calls as Proxmox allows:
 *
 *   GET /cluster/resources          nodes, guests, storages (one answer)
 *   GET /cluster/status             quorum, node online, node ip
 *   GET /cluster/ha/status/current  what Proxmox HA manages, node maintenance
 *
 * and only where needed: GET /nodes/{node}/storage for a node whose
 * storage is not reported available (to tell "inactive" from "disabled").
 * Storage content (which guest's disks live where) and replication state
 * change slowly; they are re-read every `slowRefreshMs`, in the same
 * snapshot call, and kept in between.
 */
import type { Clock } from '../../src/clock/clock.js';
import type { Logger } from '../../src/log.js';
import type { PveTransport } from './transport.js';
import { parseClusterStatus, parseContent, parseHaStatus, parseNodeStorage, parseReplicationJobs, parseReplicationStatus, parseResources, type NodeStorageStatus, type ReplicationJob, type Resources } from './raw.js';
import { datastoreName, nodeOnline, type RawCluster } from './snapshot.js';

export class ClusterReader {
  private slowAt = Number.NEGATIVE_INFINITY;
  /** Datastore name -> guests with a volume on it; kept for nodes that stop answering. */
  private content = new Map<string, number[]>();
  private replication: ReplicationJob[] = [];

  constructor(
    private readonly transport: PveTransport,
    private readonly clock: Clock,
    private readonly slowRefreshMs: number,
    private readonly logger: Logger,
  ) {}

  async read(): Promise<RawCluster> {
    const api = this.transport.api();
    const [resourcesData, statusData, haData] = await Promise.all([api.cluster.resources.$get(), api.cluster.status.$get(), api.cluster.ha.status.current.$get()]);
    const resources = parseResources(resourcesData);
    const status = parseClusterStatus(statusData);
    const ha = parseHaStatus(haData);
    const partial = { resources, status };

    const nodeStorage = new Map<string, NodeStorageStatus[]>();
    const doubtful = new Set(resources.storages.filter((s) => s.status !== 'available' && nodeOnline(partial, s.node) === true).map((s) => s.node));
    await Promise.all(
      [...doubtful].map(async (node) => {
        const endpoint = `/api2/json/nodes/${node}/storage`;
        try {
          nodeStorage.set(node, parseNodeStorage(await api.nodes.$(node).storage.$get(), endpoint));
        } catch (e) {
          // Without the detail the storage stays "degraded" on that node: unknown, not lost.
          this.logger.warn({ err: e, node }, `cannot read the storage status of node ${node}`);
        }
      }),
    );

    if (this.clock.now() - this.slowAt >= this.slowRefreshMs) {
      await this.refreshSlow(resources, partial);
      this.slowAt = this.clock.now();
    }
    const guestDatastores = new Map<number, string[]>();
    for (const [ds, vmids] of this.content) {
      for (const vmid of vmids) {
        const list = guestDatastores.get(vmid) ?? [];
        if (!list.includes(ds)) list.push(ds);
        guestDatastores.set(vmid, list);
      }
    }
    return { resources, status, ha, nodeStorage, guestDatastores, replication: this.replication };
  }

  /** Forces the slow part to be re-read on the next snapshot (after Vigil moved a guest). */
  invalidate(): void {
    this.slowAt = Number.NEGATIVE_INFINITY;
  }

  private async refreshSlow(resources: Resources, partial: Pick<RawCluster, 'resources' | 'status'>): Promise<void> {
    const api = this.transport.api();
    const seenShared = new Set<string>();
    const reads: Promise<void>[] = [];
    for (const s of resources.storages) {
      if (!/\b(images|rootdir)\b/.test(s.content ?? '') || s.status !== 'available' || nodeOnline(partial, s.node) !== true) continue;
      if (s.shared) {
        if (seenShared.has(s.storage)) continue;
        seenShared.add(s.storage);
      }
      const name = datastoreName(s.storage, s.node, s.shared);
      const endpoint = `/api2/json/nodes/${s.node}/storage/${s.storage}/content`;
      reads.push(
        api.nodes
          .$(s.node)
          .storage.$(s.storage)
          .content.$get()
          .then((data) => {
            this.content.set(name, parseContent(data, endpoint));
          })
          .catch((e: unknown) => {
            // Keep what we knew: a storage that cannot list its content right now still holds the same disks.
            this.logger.warn({ err: e, storage: name }, `cannot list the content of ${name}; keeping the last known list`);
          }),
      );
    }
    await Promise.all(reads);

    const jobs = parseReplicationJobs(await api.cluster.replication.$get());
    if (!jobs.length) {
      this.replication = [];
      return;
    }
    const sources = new Map<string, ReplicationJob[]>();
    const owner = new Map(resources.guests.map((g) => [g.vmid, g.node]));
    for (const j of jobs) {
      const source = j.source ?? owner.get(j.guest);
      if (!source) continue;
      const list = sources.get(source) ?? [];
      list.push(j);
      sources.set(source, list);
    }
    const out: ReplicationJob[] = [];
    await Promise.all(
      [...sources.entries()].map(async ([node, list]) => {
        let states = new Map<string, Pick<ReplicationJob, 'lastSync' | 'failCount' | 'duration' | 'error'>>();
        if (nodeOnline(partial, node) === true) {
          const endpoint = `/api2/json/nodes/${node}/replication`;
          try {
            states = parseReplicationStatus(await api.nodes.$(node).replication.$get(), endpoint);
          } catch (e) {
            this.logger.warn({ err: e, node }, `cannot read the replication state on node ${node}; keeping the last known`);
            for (const prev of this.replication) if (list.some((j) => j.id === prev.id)) states.set(prev.id, prev);
          }
        } else {
          // The source node is down: its last known state is what a restart from the replica would lose.
          for (const prev of this.replication) if (prev.source === node || list.some((j) => j.id === prev.id)) states.set(prev.id, prev);
        }
        for (const j of list) out.push({ ...j, source: node, ...states.get(j.id) });
      }),
    );
    this.replication = out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
