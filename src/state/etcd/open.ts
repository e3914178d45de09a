/**
 * Replicated mode, opened: connect to etcd, make sure the prefix is
 * Vigil's (or claim it when empty), read the shared state, register this
 * replica, and prepare one election per cluster. `vigil run` opens this
 * instead of the state directory when the config has `state.etcd`.
 * Anything wrong here is an expected error and nothing has been acted on.
 */
import { hostname } from 'node:os';
import type { Etcd3 } from 'etcd3';
import { ErrorCodes, VigilError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { ClusterLeadership } from '../../service/cluster-controller.js';
import type { JournalRecord } from '../journal.js';
import { connectEtcd } from './client.js';
import type { EtcdConfig } from './config.js';
import { ClusterElection, Elections, type LeadershipChange } from './election.js';
import { EtcdHealth } from './health.js';
import { EtcdJournal } from './journal.js';
import { layout, prefixEnd, STATE_FORMAT, type Layout } from './keys.js';
import { Spread } from './spread.js';
import { StateView } from './view.js';
import { PrefixWatcher } from './watcher.js';

export interface EtcdStateOptions {
  readonly config: EtcdConfig;
  readonly baseDir: string;
  /** The configured clusters: one election each. */
  readonly clusters: readonly string[];
  readonly logger: Logger;
  /** Default: state.etcd.replicaName, else hostname and pid. */
  readonly replica?: string;
  readonly compactAfterRecords?: number;
  /** A cluster with work under way is never handed over voluntarily. */
  readonly busy?: (cluster: string) => boolean;
}

type ChangeListener = (cluster: string, change: LeadershipChange, why: string) => void;
type RecordListener = (cluster: string, record: JournalRecord) => void;

export class EtcdState {
  private readonly changeListeners = new Set<ChangeListener>();
  private readonly recordListeners = new Set<RecordListener>();
  private startTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly replica: string,
    readonly layout: Layout,
    readonly client: Etcd3,
    readonly view: StateView,
    readonly watcher: PrefixWatcher,
    readonly journal: EtcdJournal,
    readonly elections: Elections,
    readonly spread: Spread,
    readonly health: EtcdHealth,
    private readonly ttlMs: number,
  ) {
    view.onRecord((cluster, record, writer) => {
      if (writer === journal.writer) return;
      for (const f of this.recordListeners) f(cluster, record);
    });
  }

  leadership(cluster: string): ClusterLeadership | undefined {
    return this.elections.leadership(cluster);
  }

  /** etcd answers and the shared state is current and readable. */
  ready(): boolean {
    return this.health.reachable() && !this.view.broken;
  }

  /** Why not ready, for logs and status. */
  detail(): string {
    return this.view.broken ? `the shared state cannot be trusted: ${this.view.broken}` : this.health.detail();
  }

  /** This replica gained or lost a cluster's leadership. */
  onChange(f: ChangeListener): void {
    this.changeListeners.add(f);
  }

  /** Another replica wrote a record (an operator's freeze through it, a leader's outcome). */
  onRemoteRecord(f: RecordListener): void {
    this.recordListeners.add(f);
  }

  emitChange(cluster: string, change: LeadershipChange, why: string): void {
    for (const f of this.changeListeners) f(cluster, change, why);
  }

  /**
   * Starts campaigning, after a moment to see which replicas are up (so
   * that replicas starting together split the clusters between them).
   */
  start(discoveryMs = Math.min(1_000, Math.floor(this.ttlMs / 2))): void {
    if (this.closed) return;
    this.startTimer = setTimeout(() => this.elections.start(), discoveryMs);
  }

  /** For crash tests: stops every timer and drops the connection without resigning, as a killed process would. */
  abandon(): void {
    this.closed = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    for (const e of this.elections.all()) e.abandon();
    this.spread.abandon();
    this.health.stop();
    void this.watcher.close();
    this.client.close();
  }

  /** Resigns every leadership (a standby takes over at once), then lets go of etcd. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    await this.elections.stop();
    this.journal.close();
    this.health.stop();
    await this.spread.close();
    await this.watcher.close();
    this.client.close();
  }
}

export function defaultReplicaName(): string {
  return `${hostname()}-${process.pid}`;
}

export async function openEtcdState(o: EtcdStateOptions): Promise<EtcdState> {
  const { config, logger } = o;
  const l = layout(config.prefix);
  const replica = o.replica ?? config.replicaName ?? defaultReplicaName();
  const client = await connectEtcd(config, { baseDir: o.baseDir, logger, probeKey: l.meta });
  const ttlMs = config.leaseTtl;
  let state: EtcdState | undefined;
  try {
    await claimPrefix(client, l);
    const view = new StateView(l, logger);
    const watcher = new PrefixWatcher(client, l.prefix, view, logger);
    await watcher.start();
    if (view.broken) {
      throw new VigilError(ErrorCodes.JOURNAL_CORRUPT, `the shared state under ${l.prefix} in etcd cannot be read: ${view.broken}. Nothing was changed; see docs/replicas.md.`, { expected: true });
    }
    const spread = new Spread({ client, layout: l, view, replica, clusters: o.clusters, ttlMs, logger });
    await spread.register(ttlMs + 1_000);
    const health = new EtcdHealth(client, l.meta, ttlMs, config.requestTimeout, logger);
    // The journal asks the elections for tokens, the elections are built after it: a holder closes the loop.
    const held: { elections?: Elections } = {};
    const journal = new EtcdJournal({
      client,
      layout: l,
      view,
      watcher,
      tokens: { token: (c) => held.elections?.token(c), lost: (c, why) => held.elections?.lost(c, why) },
      requestTimeoutMs: config.requestTimeout,
      logger,
      replica,
      ...(o.compactAfterRecords ? { compactAfterRecords: o.compactAfterRecords } : {}),
    });
    const elections = new Elections(
      o.clusters,
      (cluster) =>
        new ClusterElection({
          client,
          layout: l,
          cluster,
          ttlMs,
          replica,
          watcher,
          view,
          requestTimeoutMs: config.requestTimeout,
          logger: logger.child({ cluster }),
          reachable: () => health.reachable(),
          spread,
          ...(o.busy ? { busy: () => o.busy?.(cluster) ?? false } : {}),
          onChange: (change, why) => state?.emitChange(cluster, change, why),
        }),
    );
    held.elections = elections;
    health.start();
    state = new EtcdState(replica, l, client, view, watcher, journal, elections, spread, health, ttlMs);
    logger.info({ endpoints: config.endpoints, prefix: l.prefix, replica, leaseTtlMs: ttlMs }, `replicated mode: state in etcd under ${l.prefix} as replica ${replica}`);
    return state;
  } catch (e) {
    client.close();
    throw e;
  }
}

/**
 * The prefix holds Vigil's state (a meta key of our format), or nothing at
 * all (then it is claimed). Anything else is someone else's data: refused,
 * untouched.
 */
async function claimPrefix(client: Etcd3, l: Layout): Promise<void> {
  const meta = await client.get(l.meta).string();
  if (meta !== null) {
    let m: { vigil?: unknown; format?: unknown } | undefined;
    try {
      m = JSON.parse(meta) as typeof m;
    } catch {
      m = undefined;
    }
    if (m?.vigil !== 'state') throw foreign(l, `${l.meta} is not Vigil's`);
    if (m.format !== STATE_FORMAT) throw foreign(l, `it holds format ${JSON.stringify(m.format)}; this Vigil reads format ${STATE_FORMAT}`);
    return;
  }
  // Claim it only while it is empty, in one step: replicas starting together race here.
  const claimed = await client.kv.txn({
    compare: [{ key: Buffer.from(l.prefix), range_end: prefixEnd(l.prefix), target: 'Create', result: 'Equal', create_revision: 0 }],
    success: [{ request_put: { key: Buffer.from(l.meta), value: Buffer.from(JSON.stringify({ vigil: 'state', format: STATE_FORMAT, created: new Date().toISOString() })) } }],
    failure: [],
  });
  if (claimed.succeeded) return;
  if ((await client.get(l.meta).string()) !== null) return claimPrefix(client, l);
  const other = await client.getAll().prefix(l.prefix).limit(1).keys();
  throw foreign(l, `it holds keys (such as ${other[0] ?? '?'}) but no ${l.meta}`);
}

function foreign(l: Layout, why: string): VigilError {
  return new VigilError(ErrorCodes.JOURNAL_FOREIGN, `the etcd prefix ${l.prefix} is not Vigil's state: ${why}. Vigil does not read or change it; set state.etcd.prefix to a prefix of its own.`, { expected: true });
}
