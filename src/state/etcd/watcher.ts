/**
 * Keeps a replica's copy of everything under the prefix current: one read
 * of the whole prefix, then a watch from the revision after it, every
 * change handed to the sink in etcd's revision order. `waitFor(rev)`
 * resolves once every change up to that revision has been handed over: a
 * writer waits for its own write to come back this way, so all replicas
 * fold the same records in the same order. If the watch breaks, is
 * cancelled (etcd compacted the revision it needed) or stalls, everything
 * is read again.
 */
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import { messageOf } from '../../errors.js';
import type { Logger } from '../../log.js';

export interface WatchSink {
  /** Everything under the prefix as of `revision`, in create-revision order. */
  reset(kvs: readonly IKeyValue[], revision: number): void;
  put(kv: IKeyValue): void;
  delete(kv: IKeyValue): void;
}

interface Waiter {
  readonly rev: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class PrefixWatcher {
  private applied = 0;
  private watcher: Watcher | undefined;
  private waiters: Waiter[] = [];
  private connected = false;
  private closed = false;
  private resyncing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly sink: WatchSink,
    private readonly logger: Pick<Logger, 'warn' | 'info' | 'debug'>,
  ) {}

  /** The first full read; rejects if etcd does not answer it. */
  async start(): Promise<void> {
    await this.readAndWatch();
  }

  /** The revision up to which the sink has every change. */
  revision(): number {
    return this.applied;
  }

  /** The watch stream is up. */
  isConnected(): boolean {
    return this.connected && !this.resyncing;
  }

  /** Resolves once every change up to `rev` has reached the sink; rejects after `timeoutMs`. */
  waitFor(rev: number, timeoutMs: number): Promise<void> {
    if (rev <= this.applied) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the etcd watch is closed'));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        rev,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`etcd's watch did not deliver revision ${rev} within ${timeoutMs} ms (at ${this.applied})`));
          // A member cut off from the quorum serves a watch that never moves: read again, from whichever member answers.
          this.kick();
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** Reads everything again and watches anew. */
  kick(): void {
    if (this.closed || this.resyncing) return;
    this.resyncing = this.resync().finally(() => (this.resyncing = undefined));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const w = this.watcher;
    this.watcher = undefined;
    for (const x of this.waiters.splice(0)) {
      clearTimeout(x.timer);
      x.reject(new Error('the etcd watch is closed'));
    }
    if (w) await w.cancel().catch(() => undefined);
  }

  private async resync(): Promise<void> {
    let delay = 250;
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await this.readAndWatch();
        if (attempt > 1) this.logger.info(`etcd: the shared state is read again (after ${attempt} attempts)`);
        return;
      } catch (e) {
        if (attempt === 1) this.logger.warn({ err: messageOf(e) }, `etcd: cannot read the shared state (${messageOf(e)}); trying again until it answers`);
        else this.logger.debug({ err: messageOf(e), attempt }, 'etcd: still cannot read the shared state');
        await new Promise<void>((r) => (this.retryTimer = setTimeout(r, delay)));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private async readAndWatch(): Promise<void> {
    const old = this.watcher;
    this.watcher = undefined;
    this.connected = false;
    if (old) void old.cancel().catch(() => undefined);
    const res = await this.client.getAll().prefix(this.prefix).sort('Create', 'Ascend').exec();
    if (this.closed) return;
    const rev = Number(res.header.revision);
    this.sink.reset(res.kvs, rev);
    this.advance(rev);
    const w = this.client.watch().prefix(this.prefix).startRevision(String(rev + 1)).watcher();
    this.watcher = w;
    w.on('connected', () => {
      if (this.watcher === w) this.connected = true;
    });
    w.on('disconnected', (e: Error) => {
      if (this.watcher !== w) return;
      this.logger.warn({ err: messageOf(e) }, `etcd: the watch stream broke (${messageOf(e)}); reading the shared state again`);
      this.connected = false;
      // etcd3 would resume the stream from the revision it last heard of, which after a fresh start can skip the history
      // still owed to us: start over from a full read instead.
      this.kick();
    });
    w.on('data', (r: IWatchResponse) => {
      if (this.watcher !== w) return;
      this.deliver(r);
    });
    w.on('error', (e: Error) => {
      if (this.watcher !== w) return;
      // Cancelled by etcd, typically because the revision to resume from was compacted away: read everything again.
      this.logger.warn({ err: messageOf(e) }, `etcd: the watch was cancelled (${messageOf(e)}); reading the shared state again`);
      this.kick();
    });
  }

  private deliver(r: IWatchResponse): void {
    let last = this.applied;
    for (const ev of r.events) {
      const rev = Number(ev.kv.mod_revision);
      // After a reconnect the stream resumes where it stood; anything at or below what the sink has is old news.
      if (rev <= this.applied) continue;
      if (ev.type === 'Put') this.sink.put(ev.kv);
      else this.sink.delete(ev.kv);
      last = Math.max(last, rev);
    }
    // etcd promises every change up to the header's revision has been sent on this stream.
    this.advance(Math.max(last, Number(r.header.revision)));
  }

  private advance(rev: number): void {
    if (rev <= this.applied) return;
    this.applied = rev;
    const ready = this.waiters.filter((w) => w.rev <= rev);
    if (!ready.length) return;
    this.waiters = this.waiters.filter((w) => w.rev > rev);
    for (const w of ready) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }
}
