/**
 * Whether etcd answers this replica: a linearizable read (which needs a
 * quorum, so a lone member cut off from the others does not count) every
 * fraction of the TTL. Reachable until no read has succeeded for a whole
 * TTL: the same time after which a leader could no longer hold its lease.
 * Feeds /readyz and the role shown in status; it never grants leadership.
 */
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import { messageOf } from '../../errors.js';
import type { Logger } from '../../log.js';

export class EtcdHealth {
  private lastOk: number;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private said: 'ok' | 'lost' = 'ok';
  private lastError = '';

  constructor(
    private readonly client: Etcd3,
    private readonly key: string,
    private readonly ttlMs: number,
    private readonly requestTimeoutMs: number,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
  ) {
    this.lastOk = performance.now();
  }

  start(): void {
    const every = Math.max(200, Math.min(2_000, Math.floor(this.ttlMs / 4)));
    this.timer = setInterval(() => void this.check(), every);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  reachable(): boolean {
    return performance.now() - this.lastOk < this.ttlMs;
  }

  /** For status and logs: why etcd counts as lost. */
  detail(): string {
    return this.reachable() ? 'etcd answers' : `etcd has not answered for ${Math.round((performance.now() - this.lastOk) / 1000)} s${this.lastError ? ` (${this.lastError})` : ''}`;
  }

  private async check(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      await this.client.get(this.key).options({ deadline: Date.now() + Math.min(this.requestTimeoutMs, this.ttlMs) }).exec();
      this.lastOk = performance.now();
      this.lastError = '';
      if (this.said === 'lost') {
        this.said = 'ok';
        this.logger.info('etcd answers again');
      }
    } catch (e) {
      this.lastError = messageOf(e);
      if (this.said === 'ok' && !this.reachable()) {
        this.said = 'lost';
        this.logger.warn({ err: this.lastError }, `etcd has not answered for a lease TTL (${this.lastError}): no leadership, no action, not ready until it does`);
      }
    } finally {
      this.inFlight = false;
    }
  }
}
