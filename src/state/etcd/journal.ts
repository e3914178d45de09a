/**
 * The journal in etcd, shared by every replica. A record of a cluster is
 * written with a transaction that checks, inside etcd, that this
 * replica's election key for that cluster still exists with this term's
 * create revision (the fencing token). A deposed leader's late write
 * therefore fails, `append` rejects with VIGIL_E_NOT_LEADER, and the
 * executor never sends the action whose intent it was.
 *
 * `append` resolves once etcd has committed the record (a quorum has it on
 * disk) and this replica's watch has delivered it back, so `state()` (a
 * synchronous fold of the initial read plus the watch) already holds it,
 * and every replica folds the same records in the same order.
 *
 * Operators' records (freeze, unfreeze, fence confirmation) and records for
 * every cluster ("*") need no leadership: any replica takes them, as a
 * person may ask any replica. The cluster's leader compacts its records
 * into one snapshot once they pile up, as the file journal does.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Etcd3, IRequestOp, ICompare } from 'etcd3';
import { ErrorCodes, messageOf, VigilError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { compactRecords, foldRecords, type Journal, type JournalRecord, type JournalState } from '../journal.js';
import { bucketOf, encodeRecord, encodeSnapshot, prefixEnd, type Layout } from './keys.js';
import type { StateView } from './view.js';
import type { PrefixWatcher } from './watcher.js';

/** This term's proof of leadership: the election key and its create revision. */
export interface FencingToken {
  readonly key: string;
  readonly revision: number;
}

export interface LeadershipTokens {
  /** The token of the current term, if this replica leads the cluster now (and may act). */
  token(cluster: string): FencingToken | undefined;
  /** A guarded write found the leadership gone: stop acting on the cluster at once. */
  lost(cluster: string, why: string): void;
}

export interface EtcdJournalOptions {
  readonly client: Etcd3;
  readonly layout: Layout;
  readonly view: StateView;
  readonly watcher: PrefixWatcher;
  readonly tokens: LeadershipTokens;
  readonly requestTimeoutMs: number;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** This replica's name (in snapshots, for people). */
  readonly replica: string;
  /** Compact a cluster once it has this many records since its last snapshot (default 1000)... */
  readonly compactAfterRecords?: number;
  /** ...or this many bytes of them (default 1 MiB, below etcd's default request limit of 1.5 MiB). */
  readonly compactAfterBytes?: number;
  readonly now?: () => number;
}

/** Records a person writes through any replica; none of them can make a controller act twice. */
const OPERATOR_RECORDS = new Set<JournalRecord['type']>(['freeze', 'unfreeze', 'fence-confirmed']);

export function needsLeadership(r: JournalRecord): boolean {
  return bucketOf(r) !== '*' && !OPERATOR_RECORDS.has(r.type);
}

export class EtcdJournal implements Journal {
  /** Tells this process's keys and intent ids from other replicas': several replicas write at once. */
  readonly writer: string;
  private seq = 0;
  private issued = 0;
  private closed = false;
  private readonly compacting = new Set<string>();

  constructor(private readonly o: EtcdJournalOptions) {
    this.writer = randomBytes(4).toString('hex');
  }

  state(): JournalState {
    return this.o.view.folds.state();
  }

  /**
   * Unique across replicas (the writer part) and increasing (the number,
   * which the fold's lastSeq follows), so ids of replicas writing for
   * different clusters at once never collide.
   */
  nextId(): string {
    this.issued = Math.max(this.issued, this.state().lastSeq) + 1;
    return `${this.writer}-i${this.issued}`;
  }

  async append(record: JournalRecord): Promise<void> {
    if (this.closed) throw new VigilError(ErrorCodes.NOT_LEADER, 'the etcd journal is closed');
    const { view, layout } = this.o;
    if (view.broken) throw new VigilError(ErrorCodes.NOT_LEADER, `the shared state in etcd cannot be trusted: ${view.broken}`);
    const bucket = bucketOf(record);
    const compare: ICompare[] = [];
    let token: FencingToken | undefined;
    if (needsLeadership(record)) {
      token = this.o.tokens.token(bucket);
      if (!token) throw new VigilError(ErrorCodes.NOT_LEADER, `this replica does not lead cluster ${bucket}`);
      compare.push({ key: Buffer.from(token.key), target: 'Create', result: 'Equal', create_revision: token.revision });
    }
    const key = layout.journalKey(bucket, this.writer, ++this.seq);
    const put: IRequestOp = { request_put: { key: Buffer.from(key), value: Buffer.from(encodeRecord(record)) } };
    let res;
    try {
      res = await this.txn(compare, [put]);
    } catch (e) {
      throw new VigilError(ErrorCodes.NOT_LEADER, `etcd did not record it (${messageOf(e)})${token ? `: cluster ${bucket} cannot be acted on now` : ''}`, { cause: e });
    }
    if (!res.succeeded) {
      this.o.tokens.lost(bucket, 'a journal write found its election key gone');
      throw new VigilError(ErrorCodes.NOT_LEADER, `this replica no longer leads cluster ${bucket}: its election key is gone, so the record was refused`);
    }
    try {
      await this.o.watcher.waitFor(Number(res.header.revision), this.o.requestTimeoutMs);
    } catch (e) {
      // Committed but not yet seen here: the caller must not act on a state that does not show it. It stays in etcd;
      // an intent left so is settled from what the platform shows, like any open intent.
      throw new VigilError(ErrorCodes.NOT_LEADER, `etcd recorded it, but this replica did not see it come back (${messageOf(e)})`, { cause: e });
    }
    if (token && this.needsCompaction(bucket)) void this.compact(bucket);
  }

  close(): void {
    this.closed = true;
  }

  /**
   * Replaces the cluster's records with the few that rebuild its state, in
   * one transaction that holds only if this replica still leads and no
   * record of the cluster arrived after the fold it compacted: so nothing
   * is lost to a concurrent write (an operator's freeze through another
   * replica, say). Returns false when it did not compact.
   */
  async compact(cluster: string): Promise<boolean> {
    if (this.compacting.has(cluster) || this.closed) return false;
    this.compacting.add(cluster);
    try {
      const token = this.o.tokens.token(cluster);
      if (!token) return false;
      const upTo = this.o.watcher.revision();
      const state = this.o.view.folds.clusterState(cluster);
      const now = (this.o.now ?? Date.now)();
      const records = compactRecords(state, now);
      if (!isDeepStrictEqual(foldRecords(records), state)) {
        this.o.logger.error({ cluster }, 'etcd journal: compaction would change the state; not compacting (a bug: please report it)');
        return false;
      }
      const { layout } = this.o;
      const prefix = layout.journalPrefix(cluster);
      const snapshot = layout.snapshot(cluster);
      const before = this.o.view.folds.size(cluster);
      const res = await this.txn(
        [
          { key: Buffer.from(token.key), target: 'Create', result: 'Equal', create_revision: token.revision },
          // Nothing of this cluster newer than the fold being written.
          { key: Buffer.from(prefix), range_end: prefixEnd(prefix), target: 'Mod', result: 'Less', mod_revision: upTo + 1 },
          { key: Buffer.from(snapshot), target: 'Mod', result: 'Less', mod_revision: upTo + 1 },
        ],
        [
          { request_delete_range: { key: Buffer.from(prefix), range_end: prefixEnd(prefix) } },
          { request_put: { key: Buffer.from(snapshot), value: Buffer.from(encodeSnapshot({ upTo, at: now, by: this.o.replica, records })) } },
        ],
      );
      if (!res.succeeded) return false;
      await this.o.watcher.waitFor(Number(res.header.revision), this.o.requestTimeoutMs).catch(() => undefined);
      this.o.logger.info({ cluster, records: before.records, kept: records.length }, `etcd journal: compacted cluster ${cluster} (${before.records} records -> a snapshot of ${records.length})`);
      return true;
    } catch (e) {
      this.o.logger.warn({ cluster, err: messageOf(e) }, `etcd journal: compaction of ${cluster} failed (${messageOf(e)}); it is tried again later`);
      return false;
    } finally {
      this.compacting.delete(cluster);
    }
  }

  private needsCompaction(cluster: string): boolean {
    const size = this.o.view.folds.size(cluster);
    return size.records > (this.o.compactAfterRecords ?? 1000) || size.bytes > (this.o.compactAfterBytes ?? 1024 * 1024);
  }

  private async txn(compare: ICompare[], success: IRequestOp[]) {
    const deadline = Date.now() + this.o.requestTimeoutMs;
    return this.o.client.kv.txn({ compare, success, failure: [] }, { deadline });
  }
}
