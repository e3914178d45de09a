/**
 * Watches Proxmox HA recover guests, without ever acting: for each HA
 * resource whose node went offline it notes when that was first seen,
 * when the CRM started fencing (`fence`), when the fence was acknowledged
 * (`recovery`: the CRM took the node's agent lock, so the node is proven
 * down), and when the resource ran again elsewhere; then it logs the
 * whole recovery with its timings.
 *
 * It also remembers which nodes Proxmox HA fenced, for `hostDownProof`:
 * the HA manager only leaves `fence` for a node by taking its lock.
 */
import type { Logger } from '../../src/log.js';
import { formatDuration } from '../../src/clock/duration.js';
import type { HaStatus } from './raw.js';

interface Recovery {
  readonly sid: string;
  readonly from: string;
  readonly offlineAt: number;
  fenceAt?: number;
  ackAt?: number;
}

export class HaWatch {
  private readonly recoveries = new Map<string, Recovery>();
  /** Node -> time the HA manager was seen fencing it. */
  private readonly fencing = new Map<string, number>();
  /** Node -> time its fence was seen acknowledged. */
  private readonly fenced = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  /** Feeds one snapshot's view: node online flags, HA service states. */
  observe(now: number, online: (node: string) => boolean | undefined, ha: HaStatus, nameOf: (sid: string) => string): void {
    for (const [node] of [...this.fenced, ...this.fencing]) {
      if (online(node) === true) {
        this.fenced.delete(node);
        this.fencing.delete(node);
      }
    }
    for (const svc of ha.services.values()) {
      const node = svc.node;
      if (!node) continue;
      let r = this.recoveries.get(svc.sid);
      if (!r && online(node) === false && (svc.requestState ?? 'started') !== 'ignored') {
        r = { sid: svc.sid, from: node, offlineAt: now };
        this.recoveries.set(svc.sid, r);
        this.logger.info({ sid: svc.sid, node }, `Proxmox HA resource ${svc.sid} (${nameOf(svc.sid)}): node ${node} is offline; Proxmox HA recovers it, Vigil watches`);
      }
      if (!r) continue;
      if (svc.crmState === 'fence' && r.fenceAt === undefined) {
        r.fenceAt = now;
        this.noteFencing(r.from, now);
        this.logger.info({ sid: svc.sid, node: r.from }, `Proxmox HA is fencing node ${r.from} (${svc.sid}), ${formatDuration(now - r.offlineAt)} after it was seen offline`);
      }
      if (svc.crmState === 'recovery' && r.ackAt === undefined) {
        r.ackAt = now;
        this.noteFenced(r.from, now);
        this.logger.info({ sid: svc.sid, node: r.from }, `Proxmox HA fenced node ${r.from}; recovering ${svc.sid}`);
      }
      if (node !== r.from && (svc.crmState === 'started' || svc.state === 'started')) {
        this.noteFenced(r.from, now);
        this.logger.info(
          { sid: svc.sid, from: r.from, to: node, durationMs: now - r.offlineAt },
          `Proxmox HA recovered ${svc.sid} (${nameOf(svc.sid)}) from ${r.from} on ${node} in ${formatDuration(now - r.offlineAt)} after the node was first seen offline`,
        );
        this.recoveries.delete(svc.sid);
      } else if (node === r.from && online(node) === true) {
        this.recoveries.delete(svc.sid); // the node came back before HA moved it
      }
    }
  }

  noteFencing(node: string, now: number): void {
    if (!this.fencing.has(node)) this.fencing.set(node, now);
  }

  noteFenced(node: string, now: number): void {
    if (!this.fenced.has(node)) this.fenced.set(node, now);
  }

  wasFencing(node: string): boolean {
    return this.fencing.has(node);
  }

  fencedAt(node: string): number | undefined {
    return this.fenced.get(node);
  }
}
