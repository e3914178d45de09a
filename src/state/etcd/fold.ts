/**
 * The journal state as every replica folds it from etcd: one fold per
 * cluster ("*" included), fed in etcd's revision order, merged into one
 * JournalState on demand. A record only ever touches its own cluster's
 * entries (intent ids are unique across replicas, see EtcdJournal.nextId),
 * so folding per cluster and merging equals folding everything at once,
 * and a compacted cluster can be replaced by its snapshot without touching
 * the others. Pure: no etcd here, so the equivalence is tested directly.
 */
import { applyRecord, emptyState, foldRecords, type JournalRecord, type JournalState } from '../journal.js';

interface ClusterFold {
  state: JournalState;
  /** Journal keys present in etcd for this cluster (what compaction would remove). */
  live: number;
  /** Records folded since the snapshot (or the start), for the compaction threshold. */
  bytes: number;
}

export class ClusterFolds {
  private readonly folds = new Map<string, ClusterFold>();
  private merged: JournalState | undefined = emptyState();

  /** Forgets everything (before a full re-read). */
  reset(): void {
    this.folds.clear();
    this.merged = emptyState();
  }

  /** A journal record stored under `bucket`. */
  apply(bucket: string, record: JournalRecord, bytes = 0): void {
    const f = this.fold(bucket);
    f.state = applyRecord(f.state, record);
    f.live += 1;
    f.bytes += bytes;
    this.merged = undefined;
  }

  /** A journal key of `bucket` was deleted (by compaction: its record is in the snapshot that comes with the delete). */
  removed(bucket: string): void {
    const f = this.fold(bucket);
    f.live = Math.max(0, f.live - 1);
  }

  /** A compaction's snapshot: the bucket's state is exactly what these records fold to. */
  replace(bucket: string, records: readonly JournalRecord[]): void {
    const f = this.fold(bucket);
    f.state = foldRecords(records);
    f.bytes = 0;
    this.merged = undefined;
  }

  /** One cluster's own state (what its compaction writes). */
  clusterState(bucket: string): JournalState {
    return this.folds.get(bucket)?.state ?? emptyState();
  }

  /** Journal keys of the cluster still in etcd, and the bytes of their records. */
  size(bucket: string): { records: number; bytes: number } {
    const f = this.folds.get(bucket);
    return { records: f?.live ?? 0, bytes: f?.bytes ?? 0 };
  }

  state(): JournalState {
    this.merged ??= merge([...this.folds.values()].map((f) => f.state));
    return this.merged;
  }

  private fold(bucket: string): ClusterFold {
    let f = this.folds.get(bucket);
    if (!f) {
      f = { state: emptyState(), live: 0, bytes: 0 };
      this.folds.set(bucket, f);
    }
    return f;
  }
}

/** The union of per-cluster states; their keys never overlap. */
export function merge(states: readonly JournalState[]): JournalState {
  if (states.length === 1) return states[0] as JournalState;
  const open = new Map<string, JournalState['open'] extends ReadonlyMap<string, infer V> ? V : never>();
  const attempts = new Map<string, JournalState['attempts'] extends ReadonlyMap<string, infer V> ? V : never>();
  const fenced = new Map<string, JournalState['fenced'] extends ReadonlyMap<string, infer V> ? V : never>();
  const confirmed = new Map<string, JournalState['confirmed'] extends ReadonlyMap<string, infer V> ? V : never>();
  const frozen = new Map<string, JournalState['frozen'] extends ReadonlyMap<string, infer V> ? V : never>();
  let lastSeq = 0;
  for (const s of states) {
    for (const [k, v] of s.open) open.set(k, v);
    for (const [k, v] of s.attempts) attempts.set(k, v);
    for (const [k, v] of s.fenced) fenced.set(k, v);
    for (const [k, v] of s.confirmed) confirmed.set(k, v);
    for (const [k, v] of s.frozen) frozen.set(k, v);
    lastSeq = Math.max(lastSeq, s.lastSeq);
  }
  return { open, attempts, fenced, confirmed, frozen, lastSeq };
}
