/**
 * One cluster's leader election among the replicas, on etcd3's election
 * (a key per candidate on its own lease; the lowest create revision
 * leads). This replica acts on the cluster only while all of these hold:
 *
 *  - its campaign was elected, and a write guarded by its election key
 *    (the "leader mark") went through and came back on the watch, so its
 *    fold holds every record the previous leader managed to write;
 *  - no keepalive failure was heard since, and its election key was not
 *    seen deleted;
 *  - the lease is, by its own count, still alive: less than a TTL since
 *    the send of the last keepalive etcd answered (lease-deadline.ts).
 *
 * Any failure fences at once (isLeader() turns false before anything else
 * happens), resigns the campaign (its key goes now if etcd answers, else at
 * the TTL) and campaigns again after a pause. etcd3's campaign reports a
 * lost connection only at about 2 TTL, long after a standby may have taken
 * over; the keepalive signals and the deadline are what keep this replica
 * from acting late. The election key's create revision is the term's
 * fencing token: every journal write of the cluster is checked against it
 * inside etcd (journal.ts).
 *
 * Who leads, for status, is read with election.leader() on every change,
 * never taken from etcd3's observer, which can name the wrong candidate
 * when several appear at once.
 */
import { performance } from 'node:perf_hooks';
import type { Campaign, Election, Etcd3, Lease } from 'etcd3';
import { messageOf } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { ClusterLeadership } from '../../service/cluster-controller.js';
import type { FencingToken, LeadershipTokens } from './journal.js';
import type { Layout } from './keys.js';
import { LeaseDeadline } from './lease-deadline.js';
import type { Spread } from './spread.js';
import type { StateView } from './view.js';
import type { PrefixWatcher } from './watcher.js';

export type LeadershipChange = 'gained' | 'lost';

export interface ClusterElectionOptions {
  readonly client: Etcd3;
  readonly layout: Layout;
  readonly cluster: string;
  readonly ttlMs: number;
  readonly replica: string;
  readonly watcher: PrefixWatcher;
  readonly view: StateView;
  readonly requestTimeoutMs: number;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** etcd answers (health.ts): without it, this replica cannot know its role. */
  readonly reachable: () => boolean;
  readonly spread?: Spread;
  /** The cluster has work under way (actions, fencing): no voluntary handover now. */
  readonly busy?: () => boolean;
  readonly onChange?: (change: LeadershipChange, why: string) => void;
}

export class ClusterElection implements ClusterLeadership {
  private readonly election: Election;
  private campaign: Campaign | undefined;
  private deadline: LeaseDeadline | undefined;
  private token: FencingToken | undefined;
  private leading = false;
  private leadingSince = 0;
  private leaderName: string | undefined;
  private stopped = true;
  private backoffMs = 250;
  private retry: NodeJS.Timeout | undefined;
  private fastCheck: NodeJS.Timeout | undefined;
  private slowCheck: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private unwatch: (() => void) | undefined;

  constructor(private readonly o: ClusterElectionOptions) {
    this.election = o.client.namespace(o.layout.electionNamespace).election(o.cluster, Math.round(o.ttlMs / 1000));
  }

  get cluster(): string {
    return this.o.cluster;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unwatch = this.o.view.onElection((e) => {
      if (e.kind !== 'reset' && e.cluster !== this.o.cluster) return;
      if (e.kind === 'delete' && this.token && e.key === this.token.key) this.fail(this.campaign, 'its election key was deleted');
      this.refreshLeader();
    });
    // The deadline is checked on every isLeader() call; this only makes the loss visible (log, metrics, re-campaign) promptly.
    this.fastCheck = setInterval(() => {
      if (this.leading && this.deadline && !this.deadline.valid(performance.now())) this.fail(this.campaign, `no keepalive answered within the lease TTL (${this.o.ttlMs} ms)`);
    }, Math.max(50, Math.min(250, Math.floor(this.o.ttlMs / 8))));
    this.slowCheck = setInterval(() => {
      this.refreshLeader();
      void this.maybeHandOver();
    }, this.o.ttlMs);
    this.later(this.o.spread?.campaignDelay(this.o.cluster) ?? 0);
    this.refreshLeader();
  }

  /** Gives the cluster up (resigning, so a standby takes over at once) and stops campaigning. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.retry]) if (t) clearTimeout(t);
    for (const t of [this.fastCheck, this.slowCheck]) if (t) clearInterval(t);
    this.unwatch?.();
    const c = this.campaign;
    this.drop('this replica is stopping');
    if (c) await withTimeout(c.resign(), this.o.requestTimeoutMs).catch(() => undefined);
  }

  /** As a killed process: every timer stops, nothing is said to etcd; the keys go when their leases run out. */
  abandon(): void {
    this.stopped = true;
    for (const t of [this.retry]) if (t) clearTimeout(t);
    for (const t of [this.fastCheck, this.slowCheck]) if (t) clearInterval(t);
    this.unwatch?.();
    // Stop renewing without revoking: the key outlives this "process" by the TTL, as a killed one's would.
    if (this.campaign) (this.campaign as unknown as { lease: Lease }).lease.release();
    this.campaign = undefined;
    this.leading = false;
  }

  isLeader(): boolean {
    return this.leading && this.token !== undefined && this.deadline !== undefined && this.deadline.valid(performance.now());
  }

  describe(): { readonly role: 'leader' | 'standby' | 'unknown'; readonly leader?: string } {
    if (this.isLeader()) return { role: 'leader', leader: this.o.replica };
    if (!this.o.reachable()) return { role: 'unknown' };
    const other = this.leaderName && this.leaderName !== this.o.replica ? this.leaderName : undefined;
    return { role: 'standby', ...(other ? { leader: other } : {}) };
  }

  /** This term's fencing token, while this replica may act. */
  currentToken(): FencingToken | undefined {
    return this.isLeader() ? this.token : undefined;
  }

  /** A guarded write failed: the leadership is gone. */
  lost(why: string): void {
    this.fail(this.campaign, why);
  }

  private later(ms: number): void {
    if (this.stopped) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.begin();
    }, ms);
  }

  private begin(): void {
    if (this.stopped || this.campaign) return;
    const sentAt = performance.now();
    const c = this.election.campaign(this.o.replica);
    this.campaign = c;
    // etcd3 keeps the campaign's lease private; its keepalive events are what tell this replica it may still act.
    const lease = (c as unknown as { lease: Lease }).lease;
    const deadline = new LeaseDeadline(this.o.ttlMs, sentAt);
    this.deadline = deadline;
    lease.on('keepaliveFired', () => {
      if (this.campaign === c) deadline.sent(performance.now());
    });
    lease.on('keepaliveSucceeded', () => {
      if (this.campaign !== c) return;
      deadline.answered();
      this.backoffMs = 250;
    });
    lease.on('keepaliveFailed', (e: unknown) => {
      deadline.streamLost();
      this.fail(c, `a keepalive of its lease failed (${messageOf(e)})`);
    });
    c.on('error', (e: Error) => this.fail(c, `its campaign failed (${messageOf(e)})`));
    c.on('elected', () => void this.elected(c));
  }

  private async elected(c: Campaign): Promise<void> {
    const { client, layout, cluster, replica } = this.o;
    try {
      const key = await c.getCampaignKey();
      const got = await client.get(key).exec();
      const kv = got.kvs[0];
      if (!kv) throw new Error('its election key is already gone');
      const token: FencingToken = { key, revision: Number(kv.create_revision) };
      // The barrier: a write that only holds while the key does. Once it comes back on the watch, this replica's fold holds
      // everything the previous leader wrote, since those writes all came before its key went, and so before this one.
      const mark = JSON.stringify({ replica, token: token.revision, at: new Date().toISOString() });
      const res = await client.kv.txn(
        {
          compare: [{ key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: token.revision }],
          success: [{ request_put: { key: Buffer.from(layout.leaderMark(cluster)), value: Buffer.from(mark) } }],
          failure: [],
        },
        { deadline: Date.now() + this.o.requestTimeoutMs },
      );
      if (!res.succeeded) throw new Error('its election key went before it could take over');
      await this.o.watcher.waitFor(Number(res.header.revision), this.o.requestTimeoutMs);
      if (this.campaign !== c || this.stopped) return;
      this.token = token;
      this.leading = true;
      this.leadingSince = performance.now();
      this.leaderName = replica;
      const why = `elected (fencing token ${token.revision})`;
      this.o.logger.debug({ cluster, token: token.revision }, `leads cluster ${cluster} now: ${why}`);
      this.o.onChange?.('gained', why);
    } catch (e) {
      this.fail(c, `it could not take over (${messageOf(e)})`);
    }
  }

  /** Fences at once, resigns, and campaigns again after a pause. */
  private fail(c: Campaign | undefined, why: string): void {
    if (!c || c !== this.campaign) return;
    this.drop(why);
    void withTimeout(c.resign(), this.o.requestTimeoutMs).catch(() => undefined);
    if (this.stopped) return;
    const pause = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.ttlMs);
    this.later(pause + (this.o.spread?.campaignDelay(this.o.cluster) ?? 0));
    this.refreshLeader();
  }

  private drop(why: string): void {
    const was = this.leading;
    this.campaign = undefined;
    this.deadline = undefined;
    this.token = undefined;
    this.leading = false;
    if (this.leaderName === this.o.replica) this.leaderName = undefined;
    if (was) {
      this.o.logger.debug({ cluster: this.o.cluster, why }, `no longer leads cluster ${this.o.cluster}: ${why}`);
      this.o.onChange?.('lost', why);
    } else this.o.logger.debug({ cluster: this.o.cluster, why }, `campaign for ${this.o.cluster} ended: ${why}`);
  }

  /**
   * A leader that is not the cluster's preferred replica hands it over
   * once the preferred one has been up for a while, is waiting in the
   * election, and the cluster is quiet: clusters drift back apart after a
   * replica restarts, without a handover in the middle of a restart wave.
   */
  private async maybeHandOver(): Promise<void> {
    const { spread, ttlMs, cluster } = this.o;
    const c = this.campaign;
    if (!spread || !c || !this.isLeader() || performance.now() - this.leadingSince < 3 * ttlMs || this.o.busy?.()) return;
    const preferred = spread.preferred(cluster);
    if (!preferred || preferred === this.o.replica || !spread.settled(preferred, 2 * ttlMs)) return;
    let waiting: string[];
    try {
      waiting = Object.values(await this.o.client.getAll().prefix(this.o.layout.electionPrefix(cluster)).strings());
    } catch {
      return;
    }
    if (!waiting.includes(preferred) || c !== this.campaign || this.o.busy?.()) return;
    this.fail(c, `handed over to ${preferred}, its preferred replica`);
  }

  private refreshLeader(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = this.election
      .leader()
      .then((name) => {
        this.leaderName = name;
      })
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain && !this.stopped) {
          this.refreshAgain = false;
          this.refreshLeader();
        }
      });
  }
}

/** Every cluster's election, and the tokens the journal checks its writes against. */
export class Elections implements LeadershipTokens {
  private readonly byCluster = new Map<string, ClusterElection>();

  constructor(clusters: readonly string[], make: (cluster: string) => ClusterElection) {
    for (const c of clusters) this.byCluster.set(c, make(c));
  }

  leadership(cluster: string): ClusterElection | undefined {
    return this.byCluster.get(cluster);
  }

  all(): ClusterElection[] {
    return [...this.byCluster.values()];
  }

  token(cluster: string): FencingToken | undefined {
    return this.byCluster.get(cluster)?.currentToken();
  }

  lost(cluster: string, why: string): void {
    this.byCluster.get(cluster)?.lost(why);
  }

  start(): void {
    for (const e of this.byCluster.values()) e.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.byCluster.values()].map((e) => e.stop()));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_r, reject) => (t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}
