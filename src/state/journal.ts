/**
 * The journal records what the controller intends before it acts and the
 * outcome after, plus the facts that must survive a crash or a leader
 * change: hosts proven off, operators' confirmations, frozen clusters,
 * restart attempts. On start, the records are folded into a JournalState;
 * an intent still open is reconciled with what the hypervisor reports before
 * anything is planned again, so no action is repeated or lost.
 *
 * Backends (memory for tests and one-shot commands, a file in stateDir for
 * `vigil run`, etcd for replicas) store records; the fold below is shared,
 * so every backend means the same thing by them.
 */
import type { Action } from '../model/actions.js';
import type { TaskRef } from '../provider.js';
import type { RestartAttempts } from '../plan/restart-plan.js';

export type JournalRecord =
  /** About to call the provider for this action. */
  | { readonly type: 'intent'; readonly id: string; readonly cluster: string; readonly action: Action; readonly at: number }
  /** The provider accepted the call; this is the platform task to follow. */
  | { readonly type: 'started'; readonly id: string; readonly cluster: string; readonly task: TaskRef; readonly at: number }
  /** The action ended (or was found to have ended, or not to have taken effect). */
  | { readonly type: 'outcome'; readonly id: string; readonly cluster: string; readonly ok: boolean; readonly message?: string; readonly at: number }
  /** A VM is running again (whoever started it): its failed attempts no longer count. */
  | { readonly type: 'attempts-reset'; readonly cluster: string; readonly vm: string; readonly at: number }
  /** A VM's failed attempts as a whole, written by compaction. */
  | ({ readonly type: 'attempts'; readonly cluster: string; readonly vm: string; readonly at: number } & RestartAttempts)
  /** A host was proven off. */
  | { readonly type: 'fenced'; readonly cluster: string; readonly host: string; readonly agent: string; readonly evidence: string; readonly at: number }
  /** An operator says a host is off (`vigil fence confirm`). */
  | { readonly type: 'fence-confirmed'; readonly cluster: string; readonly host: string; readonly by: string; readonly at: number }
  /** A fenced or confirmed host answers again: the proof no longer applies. */
  | { readonly type: 'host-back'; readonly cluster: string; readonly host: string; readonly at: number }
  /** Automation stops on a cluster ("*": every cluster) until a person unfreezes it. */
  | { readonly type: 'freeze'; readonly cluster: string; readonly reason: string; readonly by: string; readonly at: number }
  | { readonly type: 'unfreeze'; readonly cluster: string; readonly by: string; readonly at: number }
  /** Written first by compaction: intent ids keep counting from here. */
  | { readonly type: 'checkpoint'; readonly lastSeq: number; readonly at: number };

export interface OpenIntent {
  readonly intent: Extract<JournalRecord, { type: 'intent' }>;
  readonly task?: TaskRef;
}

export interface JournalState {
  /** Intents with no outcome, by id. */
  readonly open: ReadonlyMap<string, OpenIntent>;
  /** Failed restart attempts, by `cluster/vm`. */
  readonly attempts: ReadonlyMap<string, RestartAttempts>;
  /** Hosts proven off, by `cluster/host`. */
  readonly fenced: ReadonlyMap<string, Extract<JournalRecord, { type: 'fenced' }>>;
  /** Operators' confirmations, by `cluster/host`. */
  readonly confirmed: ReadonlyMap<string, Extract<JournalRecord, { type: 'fence-confirmed' }>>;
  /** Frozen clusters ("*" for all). */
  readonly frozen: ReadonlyMap<string, Extract<JournalRecord, { type: 'freeze' }>>;
  /** Highest intent number seen, so new ids never collide with old ones. */
  readonly lastSeq: number;
}

export interface Journal {
  /**
   * Appends the record; resolves only once it is durable. Rejects when it
   * cannot be (a disk error, or, for a replicated journal, this replica is
   * no longer the cluster's leader): the caller must then not act.
   */
  append(record: JournalRecord): Promise<void>;
  /** The fold of every record so far. */
  state(): JournalState;
  /** A fresh intent id, unique across restarts. */
  nextId(): string;
  close(): void;
}

export function emptyState(): JournalState {
  return { open: new Map(), attempts: new Map(), fenced: new Map(), confirmed: new Map(), frozen: new Map(), lastSeq: 0 };
}

export const key = (cluster: string, name: string): string => `${cluster}/${name}`;

/** Folds one record into the state (pure: returns a new state). */
export function applyRecord(s: JournalState, r: JournalRecord): JournalState {
  switch (r.type) {
    case 'intent': {
      const open = new Map(s.open);
      open.set(r.id, { intent: r });
      const seq = Number(/(\d+)$/.exec(r.id)?.[1] ?? 0);
      return { ...s, open, lastSeq: Math.max(s.lastSeq, seq) };
    }
    case 'started': {
      const was = s.open.get(r.id);
      if (!was) return s;
      const open = new Map(s.open);
      open.set(r.id, { ...was, task: r.task });
      return { ...s, open };
    }
    case 'outcome': {
      const was = s.open.get(r.id);
      const open = new Map(s.open);
      open.delete(r.id);
      const action = was?.intent.action;
      if (!action || action.type !== 'restart') return { ...s, open };
      const attempts = new Map(s.attempts);
      const k = key(action.cluster, action.vm);
      if (r.ok) attempts.delete(k);
      else {
        const before = attempts.get(k);
        attempts.set(k, { count: (before?.count ?? 0) + 1, lastAt: r.at, lastTarget: action.to, ...(r.message ? { lastError: r.message } : {}) });
      }
      return { ...s, open, attempts };
    }
    case 'attempts-reset': {
      if (!s.attempts.has(key(r.cluster, r.vm))) return s;
      const attempts = new Map(s.attempts);
      attempts.delete(key(r.cluster, r.vm));
      return { ...s, attempts };
    }
    case 'attempts': {
      const attempts = new Map(s.attempts);
      const { type: _t, cluster: _c, vm: _v, at: _a, ...a } = r;
      attempts.set(key(r.cluster, r.vm), a);
      return { ...s, attempts };
    }
    case 'fenced': {
      const fenced = new Map(s.fenced);
      fenced.set(key(r.cluster, r.host), r);
      return { ...s, fenced };
    }
    case 'fence-confirmed': {
      const confirmed = new Map(s.confirmed);
      confirmed.set(key(r.cluster, r.host), r);
      return { ...s, confirmed };
    }
    case 'host-back': {
      const fenced = new Map(s.fenced);
      const confirmed = new Map(s.confirmed);
      fenced.delete(key(r.cluster, r.host));
      confirmed.delete(key(r.cluster, r.host));
      return { ...s, fenced, confirmed };
    }
    case 'freeze': {
      const frozen = new Map(s.frozen);
      frozen.set(r.cluster, r);
      return { ...s, frozen };
    }
    case 'unfreeze': {
      const frozen = new Map(s.frozen);
      frozen.delete(r.cluster);
      return { ...s, frozen };
    }
    case 'checkpoint':
      return { ...s, lastSeq: Math.max(s.lastSeq, r.lastSeq) };
  }
}

export function foldRecords(records: Iterable<JournalRecord>): JournalState {
  let s = emptyState();
  for (const r of records) s = applyRecord(s, r);
  return s;
}

/**
 * The records that rebuild `s` exactly: what a backend writes when it
 * compacts (a new file, a fresh etcd revision) instead of keeping history.
 */
export function compactRecords(s: JournalState, at = 0): JournalRecord[] {
  const out: JournalRecord[] = [{ type: 'checkpoint', lastSeq: s.lastSeq, at }];
  for (const { intent, task } of s.open.values()) {
    out.push(intent);
    if (task) out.push({ type: 'started', id: intent.id, cluster: intent.cluster, task, at: intent.at });
  }
  for (const [k, a] of s.attempts) {
    const [cluster, vm] = splitKey(k);
    out.push({ type: 'attempts', cluster, vm, at: a.lastAt, ...a });
  }
  out.push(...s.fenced.values(), ...s.confirmed.values(), ...s.frozen.values());
  return out;
}

function splitKey(k: string): [string, string] {
  const i = k.indexOf('/');
  return [k.slice(0, i), k.slice(i + 1)];
}

/** A journal that lives only as long as the process: for tests, the demo and one-shot commands. */
export class MemoryJournal implements Journal {
  private readonly records: JournalRecord[] = [];
  private folded = emptyState();

  append(record: JournalRecord): Promise<void> {
    this.records.push(record);
    this.folded = applyRecord(this.folded, record);
    return Promise.resolve();
  }

  state(): JournalState {
    return this.folded;
  }

  nextId(): string {
    return `i${this.folded.lastSeq + 1}`;
  }

  /** Every record, in order (tests). */
  all(): readonly JournalRecord[] {
    return this.records;
  }

  close(): void {}
}
