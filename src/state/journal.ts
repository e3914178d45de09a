/**
 * The journal records what the controller intends before it acts and the
 * outcome after. An intent still open after a crash or a leader change is
 * reconciled with what the hypervisor reports before anything is planned
 * again, so no action is repeated or lost.
 */
import type { Action } from '../model/actions.js';

export interface IntentRecord {
  readonly id: string;
  readonly action: Action;
  readonly at: number;
}

export interface Outcome {
  readonly ok: boolean;
  readonly at: number;
  readonly message?: string;
}

export interface Journal {
  /** Records the intent; returns only once the record is durable. */
  begin(action: Action, at: number): IntentRecord;
  finish(id: string, outcome: Outcome): void;
  /** Intents with no outcome yet. */
  openIntents(): IntentRecord[];
}

/** A journal that lives only as long as the process: for tests, the demo and offline commands. */
export class MemoryJournal implements Journal {
  private readonly open = new Map<string, IntentRecord>();
  private seq = 0;

  begin(action: Action, at: number): IntentRecord {
    const record = { id: `i${++this.seq}`, action, at };
    this.open.set(record.id, record);
    return record;
  }

  finish(id: string, _outcome: Outcome): void {
    this.open.delete(id);
  }

  openIntents(): IntentRecord[] {
    return [...this.open.values()];
  }
}
