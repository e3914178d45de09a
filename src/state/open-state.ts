/**
 * What `vigil run` opens on start: the state directory's lock, then its
 * journal. If the journal refuses to open (foreign, corrupt), the lock is
 * let go again, so the error is the only thing left behind.
 */
import { FileJournal, type FileJournalOptions, type OpenReport } from './file-journal.js';
import { StateLock, type LockOptions } from './lock.js';

export interface OpenStateOptions extends FileJournalOptions {
  readonly lock?: Omit<LockOptions, 'logger'>;
}

export interface OpenedState {
  readonly journal: FileJournal;
  readonly lock: StateLock;
  /** What opening the journal found and did (a cut torn tail, a compaction). */
  readonly report: OpenReport;
  /** Closes the journal, then releases the lock. */
  close(): void;
}

/** Throws VIGIL_E_STATE_LOCKED, VIGIL_E_JOURNAL_FOREIGN or VIGIL_E_JOURNAL_CORRUPT. */
export function openState(stateDir: string, options: OpenStateOptions = {}): OpenedState {
  const lock = StateLock.acquire(stateDir, { ...options.lock, ...(options.logger ? { logger: options.logger } : {}) });
  let journal: FileJournal;
  try {
    journal = FileJournal.open(stateDir, options);
  } catch (e) {
    lock.release();
    throw e;
  }
  return {
    journal,
    lock,
    report: journal.report,
    close() {
      try {
        journal.close();
      } finally {
        lock.release();
      }
    },
  };
}
