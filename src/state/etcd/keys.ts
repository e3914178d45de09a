/**
 * Where Vigil's replicated state lives in etcd, under the configured
 * prefix P, and how records are written there. One place, so the journal,
 * the elections and the docs (docs/replicas.md) agree:
 *
 *   P meta                           {"vigil":"state","format":1,...}: marks the prefix as Vigil's
 *   P election/<cluster>/<lease>     etcd3's election keys; the lowest create revision leads
 *   P leader/<cluster>               written by each new leader (its barrier: see election.ts)
 *   P journal/<cluster>/<writer>-<n> one journal record each ("*": records for every cluster)
 *   P snapshot/<cluster>             a compacted cluster: the records that rebuild its state
 *   P replicas/<name>                one per live replica, on its lease (spreading clusters)
 */
import type { JournalRecord } from '../journal.js';

export const STATE_FORMAT = 1;

export interface Layout {
  readonly prefix: string;
  readonly meta: string;
  /** The namespace etcd3's Election works under (it appends `election/<name>/`). */
  readonly electionNamespace: string;
  electionPrefix(cluster: string): string;
  leaderMark(cluster: string): string;
  journalPrefix(cluster: string): string;
  journalKey(cluster: string, writer: string, n: number): string;
  snapshot(cluster: string): string;
  readonly replicasPrefix: string;
  replica(name: string): string;
}

export function layout(prefix: string): Layout {
  return {
    prefix,
    meta: `${prefix}meta`,
    electionNamespace: prefix,
    electionPrefix: (c) => `${prefix}election/${c}/`,
    leaderMark: (c) => `${prefix}leader/${c}`,
    journalPrefix: (c) => `${prefix}journal/${c}/`,
    // Zero-padded so that a person listing the keys sees them in order; the fold orders by etcd's create revision, not by name.
    journalKey: (c, w, n) => `${prefix}journal/${c}/${w}-${String(n).padStart(12, '0')}`,
    snapshot: (c) => `${prefix}snapshot/${c}`,
    replicasPrefix: `${prefix}replicas/`,
    replica: (name) => `${prefix}replicas/${name}`,
  };
}

/** What a key under the prefix is. */
export type KeyKind =
  | { readonly kind: 'meta' }
  | { readonly kind: 'election'; readonly cluster: string }
  | { readonly kind: 'leader'; readonly cluster: string }
  | { readonly kind: 'journal'; readonly cluster: string }
  | { readonly kind: 'snapshot'; readonly cluster: string }
  | { readonly kind: 'replica'; readonly name: string }
  | { readonly kind: 'other' };

export function classify(l: Layout, key: string): KeyKind {
  if (!key.startsWith(l.prefix)) return { kind: 'other' };
  const rest = key.slice(l.prefix.length);
  if (rest === 'meta') return { kind: 'meta' };
  const slash = rest.indexOf('/');
  if (slash < 0) return { kind: 'other' };
  const head = rest.slice(0, slash);
  const tail = rest.slice(slash + 1);
  const cluster = tail.split('/')[0] ?? '';
  switch (head) {
    case 'election':
      return { kind: 'election', cluster };
    case 'leader':
      return { kind: 'leader', cluster: tail };
    case 'journal':
      return { kind: 'journal', cluster };
    case 'snapshot':
      return { kind: 'snapshot', cluster: tail };
    case 'replicas':
      return { kind: 'replica', name: tail };
    default:
      return { kind: 'other' };
  }
}

/** The first key after every key that starts with `prefix`: etcd's range_end for a prefix. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = (b[i] as number) + 1;
      return out;
    }
  }
  return Buffer.from([0]);
}

/** The journal bucket a record belongs to: its cluster, or "*" (freezes of every cluster, checkpoints). */
export function bucketOf(r: JournalRecord): string {
  return r.type === 'checkpoint' ? '*' : r.cluster;
}

export function encodeRecord(r: JournalRecord): string {
  return JSON.stringify({ v: STATE_FORMAT, rec: r });
}

export interface Snapshot {
  readonly v: number;
  /** Every record of the cluster up to this revision is in `records`. */
  readonly upTo: number;
  readonly at: number;
  readonly by: string;
  readonly records: readonly JournalRecord[];
}

export function encodeSnapshot(s: Omit<Snapshot, 'v'>): string {
  return JSON.stringify({ v: STATE_FORMAT, ...s });
}

const RECORD_TYPES = new Set(['intent', 'started', 'outcome', 'attempts-reset', 'attempts', 'fenced', 'fence-confirmed', 'host-back', 'freeze', 'unfreeze', 'checkpoint']);

function isRecord(x: unknown): x is JournalRecord {
  if (!x || typeof x !== 'object') return false;
  const r = x as { type?: unknown; cluster?: unknown; at?: unknown };
  if (typeof r.type !== 'string' || !RECORD_TYPES.has(r.type)) return false;
  return r.type === 'checkpoint' || typeof r.cluster === 'string';
}

/** A stored record, or why it is not one (a value Vigil did not write, or a newer format). */
export function decodeRecord(value: Buffer): { ok: true; record: JournalRecord } | { ok: false; why: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, why: 'not JSON' };
  }
  const p = parsed as { v?: unknown; rec?: unknown };
  if (p?.v !== STATE_FORMAT) return { ok: false, why: `format ${JSON.stringify(p?.v ?? null)}, expected ${STATE_FORMAT}` };
  if (!isRecord(p.rec)) return { ok: false, why: 'not a journal record Vigil knows' };
  return { ok: true, record: p.rec };
}

export function decodeSnapshot(value: Buffer): { ok: true; snapshot: Snapshot } | { ok: false; why: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, why: 'not JSON' };
  }
  const s = parsed as Partial<Snapshot>;
  if (s?.v !== STATE_FORMAT) return { ok: false, why: `format ${JSON.stringify(s?.v ?? null)}, expected ${STATE_FORMAT}` };
  if (!Array.isArray(s.records) || !s.records.every(isRecord)) return { ok: false, why: 'its records are not journal records Vigil knows' };
  return { ok: true, snapshot: s as Snapshot };
}
