/**
 * What the watch delivers, sorted by kind of key: journal records and
 * snapshots into the per-cluster folds, replicas' registrations into a
 * list, election changes to whoever listens. A value Vigil cannot read
 * (written by something else, or by a newer Vigil) makes the state
 * untrustworthy: it is recorded in `broken`, and the journal then refuses
 * every write, so nothing acts on a state it cannot read.
 */
import type { IKeyValue } from 'etcd3';
import type { Logger } from '../../log.js';
import type { JournalRecord } from '../journal.js';
import { ClusterFolds } from './fold.js';
import { classify, decodeRecord, decodeSnapshot, type Layout } from './keys.js';
import type { WatchSink } from './watcher.js';

export type ElectionEvent = { readonly kind: 'put' | 'delete'; readonly cluster: string; readonly key: string } | { readonly kind: 'reset' };

export class StateView implements WatchSink {
  readonly folds = new ClusterFolds();
  /** Why the state cannot be trusted, if it cannot. */
  broken: string | undefined;
  /** Live replicas by name: when each registered (etcd's create revision) and what it said. */
  readonly replicas = new Map<string, { readonly revision: number; readonly value: string }>();
  private readonly electionHooks = new Set<(e: ElectionEvent) => void>();
  private readonly recordHooks = new Set<(bucket: string, record: JournalRecord, writer: string) => void>();

  constructor(
    private readonly l: Layout,
    private readonly logger: Pick<Logger, 'error'>,
  ) {}

  onElection(f: (e: ElectionEvent) => void): () => void {
    this.electionHooks.add(f);
    return () => this.electionHooks.delete(f);
  }

  /** Called for each record that arrives through the watch (not on full reads), with the writer part of its key. */
  onRecord(f: (bucket: string, record: JournalRecord, writer: string) => void): () => void {
    this.recordHooks.add(f);
    return () => this.recordHooks.delete(f);
  }

  reset(kvs: readonly IKeyValue[]): void {
    this.folds.reset();
    this.replicas.clear();
    this.broken = undefined;
    // A snapshot holds everything its cluster had when it was written; the journal keys still present are all newer.
    for (const kv of kvs) {
      const k = classify(this.l, kv.key.toString());
      if (k.kind === 'snapshot') this.snapshot(k.cluster, kv);
    }
    for (const kv of kvs) {
      const k = classify(this.l, kv.key.toString());
      if (k.kind === 'journal') this.record(k.cluster, kv);
      else if (k.kind === 'replica') this.replicas.set(k.name, { revision: Number(kv.create_revision), value: kv.value.toString() });
    }
    for (const f of this.electionHooks) f({ kind: 'reset' });
  }

  put(kv: IKeyValue): void {
    const key = kv.key.toString();
    const k = classify(this.l, key);
    switch (k.kind) {
      case 'journal': {
        const r = this.record(k.cluster, kv);
        if (r) for (const f of this.recordHooks) f(k.cluster, r, writerOf(key));
        return;
      }
      case 'snapshot':
        this.snapshot(k.cluster, kv);
        return;
      case 'replica':
        this.replicas.set(k.name, { revision: Number(kv.create_revision), value: kv.value.toString() });
        return;
      case 'election':
        for (const f of this.electionHooks) f({ kind: 'put', cluster: k.cluster, key });
        return;
      default:
        return;
    }
  }

  delete(kv: IKeyValue): void {
    const key = kv.key.toString();
    const k = classify(this.l, key);
    if (k.kind === 'journal') this.folds.removed(k.cluster);
    else if (k.kind === 'replica') this.replicas.delete(k.name);
    else if (k.kind === 'election') for (const f of this.electionHooks) f({ kind: 'delete', cluster: k.cluster, key });
  }

  private record(bucket: string, kv: IKeyValue): JournalRecord | undefined {
    const d = decodeRecord(kv.value);
    if (!d.ok) {
      this.fail(`${kv.key.toString()} is not a Vigil journal record (${d.why})`);
      return undefined;
    }
    this.folds.apply(bucket, d.record, kv.value.length);
    return d.record;
  }

  private snapshot(bucket: string, kv: IKeyValue): void {
    const d = decodeSnapshot(kv.value);
    if (!d.ok) {
      this.fail(`${kv.key.toString()} is not a Vigil snapshot (${d.why})`);
      return;
    }
    this.folds.replace(bucket, d.snapshot.records);
  }

  private fail(why: string): void {
    if (!this.broken) this.logger.error({ why }, `etcd: ${why}; Vigil refuses to record or act until this is resolved (docs/replicas.md)`);
    this.broken ??= why;
  }
}

/** `P journal/<cluster>/<writer>-<n>` -> `<writer>`. */
function writerOf(key: string): string {
  const last = key.slice(key.lastIndexOf('/') + 1);
  const dash = last.lastIndexOf('-');
  return dash < 0 ? '' : last.slice(0, dash);
}
