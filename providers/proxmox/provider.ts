/**
 * The Proxmox VE provider object: snapshot, operations, task following and
 * the cluster's own proof that a node is down. Translation only; what to
 * do and when is the controller's.
 */
import type { Clock } from '../../src/clock/clock.js';
import type { Logger } from '../../src/log.js';
import type { ClusterSnapshot } from '../../src/model/inventory.js';
import { PROVIDER_CONTRACT_VERSION, type HostRef, type Provider, type ProviderCapabilities, type TaskRef, type TaskState, type VmRef } from '../../src/provider.js';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import type { ProxmoxClusterConfig } from './config.js';
import { toVigilError } from './errors.js';
import { HaWatch } from './ha-watch.js';
import { migrate, restart, setMaintenance, type OpsContext } from './operations.js';
import { parseClusterStatus } from './raw.js';
import type { ClusterReader } from './reader.js';
import { LastKnown, mapSnapshot, nodeOnline } from './snapshot.js';
import { safeName, type SshRunner } from './ssh.js';
import { pveTaskState, VigilTasks } from './tasks.js';
import type { PveTransport } from './transport.js';

export interface ProxmoxProviderParts {
  readonly name: string;
  readonly config: ProxmoxClusterConfig;
  readonly transport: PveTransport;
  readonly reader: ClusterReader;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ssh?: SshRunner;
  readonly close?: () => Promise<void>;
}

export class ProxmoxProvider implements Provider {
  readonly kind = 'proxmox';
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly capabilities: ProviderCapabilities;
  private readonly memory = new LastKnown();
  private readonly tasks = new VigilTasks();
  private readonly haWatch: HaWatch;
  private readonly ops: OpsContext;

  constructor(private readonly p: ProxmoxProviderParts) {
    this.capabilities = {
      liveMigration: true,
      restartElsewhere: p.config.recovery === 'direct',
      maintenanceMode: p.ssh !== undefined,
      storageHealth: true,
      events: false,
      powerOff: false,
    };
    this.haWatch = new HaWatch(p.logger);
    this.ops = { transport: p.transport, clock: p.clock, logger: p.logger, config: p.config, tasks: this.tasks, reader: p.reader, ...(p.ssh ? { ssh: p.ssh } : {}) };
  }

  /** HTTP requests sent so far (for the benchmark). */
  get apiCalls(): number {
    return this.p.transport.calls;
  }

  async snapshot(): Promise<ClusterSnapshot> {
    const { transport, reader, clock } = this.p;
    try {
      for (let attempt = 0; ; attempt++) {
        const raw = await reader.read();
        if (raw.status.quorate === false) {
          // A node outside the quorate partition sees every other node offline; its view must not drive recovery.
          if (attempt + 1 < transport.endpointCount) {
            transport.rotate();
            continue;
          }
          throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `snapshot: the API at ${transport.endpoint} answers from a node that is not quorate; its view of the cluster cannot be trusted (list more nodes in fallbackUrls)`, {
            retryable: true,
            details: { reason: 'not-quorate' },
          });
        }
        const now = clock.now();
        const snap = mapSnapshot(this.p.name, now, raw, this.memory);
        const names = new Map(snap.vms.map((v) => [v.id, v.name]));
        this.haWatch.observe(now, (n) => nodeOnline(raw, n), raw.ha, (sid) => names.get(sid.split(':')[1] ?? '') ?? sid);
        return snap;
      }
    } catch (e) {
      throw toVigilError(e, 'snapshot');
    }
  }

  migrate(vm: VmRef, to: HostRef, opts: { live: boolean }): Promise<TaskRef> {
    return migrate(this.ops, vm, to, opts.live);
  }

  restart(vm: VmRef, on: HostRef): Promise<TaskRef> {
    return restart(this.ops, vm, on);
  }

  setMaintenance(host: HostRef, on: boolean): Promise<TaskRef> {
    return setMaintenance(this.ops, host, on);
  }

  async task(ref: TaskRef): Promise<TaskState> {
    try {
      if (this.tasks.has(ref.id)) return await this.tasks.state(ref.id);
      return await pveTaskState(this.p.transport, ref.id);
    } catch (e) {
      throw toVigilError(e, `task ${ref.id}`);
    }
  }

  /**
   * What the Proxmox cluster itself vouches for: the node is out of the
   * quorate partition, AND Proxmox HA fenced it (took its agent lock after
   * the node's watchdog had to reset it). A node without HA resources has
   * no armed watchdog: being offline proves nothing about its guests, so
   * the answer is then "cannot vouch", never a guess.
   */
  async hostDownProof(host: HostRef): Promise<{ readonly proven: boolean; readonly evidence: string }> {
    const node = safeName(host.id);
    try {
      const api = this.p.transport.api();
      const [statusData, manager] = await Promise.all([api.cluster.status.$get(), api.cluster.ha.status.manager_status.$get() as Promise<unknown>]);
      const status = parseClusterStatus(statusData);
      const entry = status.nodes.get(node);
      if (!entry) return { proven: false, evidence: `node ${node} is not in /cluster/status` };
      if (status.quorate !== true) return { proven: false, evidence: `the answering node's partition is not quorate; it cannot vouch for ${node}` };
      if (entry.online !== false) return { proven: false, evidence: `node ${node} is ${entry.online ? 'online' : 'of unknown state'} in /cluster/status` };
      const ms = (manager as { manager_status?: { node_status?: Record<string, string>; service_status?: Record<string, { node?: string; state?: string }> } } | null)?.manager_status ?? {};
      const nodeState = ms.node_status?.[node];
      const services = Object.entries(ms.service_status ?? {}).filter(([, s]) => s.node === node);
      const now = this.p.clock.now();
      if (nodeState === 'fence') this.haWatch.noteFencing(node, now);
      if (services.some(([, s]) => s.state === 'recovery') || (this.haWatch.wasFencing(node) && nodeState === 'unknown')) this.haWatch.noteFenced(node, now);
      const fencedAt = this.haWatch.fencedAt(node);
      const base = `node ${node} is offline in the quorate cluster ${status.clusterName ?? ''}`.trim();
      if (fencedAt !== undefined) return { proven: true, evidence: `${base}, and Proxmox HA fenced it (the HA manager acknowledged the fence by taking its agent lock)` };
      if (nodeState === 'fence') return { proven: false, evidence: `${base}; Proxmox HA is fencing it (waiting for its agent lock)` };
      if (nodeState === undefined || (!services.length && !this.haWatch.wasFencing(node))) return { proven: false, evidence: `${base}, but no Proxmox HA resource runs there, so no watchdog is armed there: offline is no proof its guests stopped (fence it or confirm by hand)` };
      return { proven: false, evidence: `${base}; Proxmox HA has not fenced it (HA node state "${nodeState}"${services.length ? `, resources ${services.map(([sid]) => sid).join(', ')}` : ''})` };
    } catch (e) {
      throw toVigilError(e, `host down proof ${host.name}`);
    }
  }

  async close(): Promise<void> {
    await this.p.close?.();
  }
}

