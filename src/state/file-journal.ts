/**
 * The journal `vigil run` keeps in `<stateDir>/journal.jsonl`. `append`
 * returns only once the record is on disk (write + fdatasync), so an intent
 * written before a provider call survives a crash, SIGKILL or power loss.
 * Opening verifies every line: a torn last line is cut and reported, any
 * other damage and any file that is not Vigil's journal are refused and
 * left untouched. The file is compacted (rewritten as the records that
 * rebuild the same state, then renamed over the old one) when it grows.
 *
 * One process at a time: use it through openState(), which holds the
 * state directory's lock.
 */
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ErrorCodes, messageOf, VigilError } from '../errors.js';
import type { Logger } from '../log.js';
import { applyRecord, compactRecords, foldRecords, type Journal, type JournalRecord, type JournalState } from './journal.js';
import { fsyncDir, unlinkQuietly, writeFully } from './durable-fs.js';
import { checkHeader, encodeHeader, encodeRecord, JOURNAL_FORMAT, MAX_HEADER_BYTES, readJournalBytes, type JournalHeader, type TailDamage } from './journal-format.js';

export const JOURNAL_FILE = 'journal.jsonl';
const COMPACT_TMP = /^\.journal\.jsonl\.\d+\.tmp$/;

export type JournalLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface FileJournalOptions {
  /** Compact once the file is larger than this many bytes (default 4 MiB), or twice its size after the last compaction. */
  readonly compactAtBytes?: number;
  /** Compact while opening, whatever the size. */
  readonly compactOnOpen?: boolean;
  readonly logger?: JournalLogger;
  /** Wall clock for the header and the checkpoint record (tests). */
  readonly now?: () => number;
}

export interface TailCut extends TailDamage {
  /** Where the cut bytes were kept, for a person to look at. */
  readonly savedTo: string;
}

/** What opening found and did. */
export interface OpenReport {
  readonly path: string;
  /** The file did not exist, or was empty, and was created. */
  readonly created: boolean;
  /** Records read from the file. */
  readonly records: number;
  /** Size of the file once opened (after any cut or compaction). */
  readonly bytes: number;
  readonly cut?: TailCut;
  readonly compacted?: { readonly beforeBytes: number; readonly afterBytes: number; readonly records: number };
}

export const DEFAULT_COMPACT_AT_BYTES = 4 * 1024 * 1024;

export class FileJournal implements Journal {
  readonly path: string;
  private rep: OpenReport;
  private fd: number;
  private size: number;
  private folded: JournalState;
  private issued: number;
  private compactAt: number;
  private broken: string | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly header: JournalHeader,
    private readonly o: FileJournalOptions,
    init: { fd: number; size: number; state: JournalState; report: OpenReport },
  ) {
    this.path = join(dir, JOURNAL_FILE);
    this.fd = init.fd;
    this.size = init.size;
    this.folded = init.state;
    this.issued = init.state.lastSeq;
    this.compactAt = o.compactAtBytes ?? DEFAULT_COMPACT_AT_BYTES;
    this.rep = init.report;
  }

  /**
   * Opens (creating if missing) the journal of a state directory. Throws
   * VIGIL_E_JOURNAL_FOREIGN or VIGIL_E_JOURNAL_CORRUPT, leaving the file
   * as it was, when it cannot be trusted.
   */
  static open(stateDir: string, options: FileJournalOptions = {}): FileJournal {
    mkdirSync(stateDir, { recursive: true });
    const path = join(stateDir, JOURNAL_FILE);
    const now = options.now ?? Date.now;
    removeCompactionLeftovers(stateDir, options.logger);
    const buf = readIfExists(path);
    let header: JournalHeader;
    let records: JournalRecord[] = [];
    let created = false;
    let cut: TailCut | undefined;
    const read = buf === undefined ? ({ kind: 'empty' } as const) : readJournalBytes(buf);
    switch (read.kind) {
      case 'foreign':
        throw new VigilError(ErrorCodes.JOURNAL_FOREIGN, `${path} is not a Vigil journal: ${read.why}. Vigil does not read or overwrite it; move it away, or set controller.stateDir to another directory.`, {
          expected: true,
          details: { path },
        });
      case 'corrupt':
        throw new VigilError(ErrorCodes.JOURNAL_CORRUPT, `${path}: line ${read.line} is damaged: ${read.why}. The file was left untouched; see docs/journal.md for how to recover.`, {
          expected: true,
          details: { path, line: read.line },
        });
      case 'empty':
        // Missing or zero bytes: a new journal. The header appears whole or not at all (written aside, then renamed in).
        header = { vigil: 'journal', format: JOURNAL_FORMAT, created: new Date(now()).toISOString() };
        replaceAtomically(stateDir, path, encodeHeader(header));
        created = true;
        break;
      case 'ok':
        header = read.header;
        records = read.records;
        if (read.tail && buf) cut = cutTail(stateDir, path, buf, read.goodEnd, read.tail, now);
        if (!read.headerTerminated) appendBytes(path, Buffer.from('\n'));
        break;
    }
    const fd = openSync(path, 'r+');
    const size = fstatSync(fd).size;
    const state = foldRecords(records);
    const report: OpenReport = { path, created, records: records.length, bytes: size, ...(cut ? { cut } : {}) };
    if (cut) {
      options.logger?.warn(
        { path, line: cut.line, bytesCut: cut.bytes, recordsCut: cut.lines, reason: cut.why, savedTo: cut.savedTo },
        `journal: cut a torn last record (line ${cut.line}, ${cut.bytes} bytes: ${cut.why}); the bytes are kept in ${cut.savedTo}`,
      );
    }
    const journal = new FileJournal(stateDir, header, options, { fd, size, state, report });
    if (options.compactOnOpen || size > journal.compactAt) journal.compact('open');
    return journal;
  }

  /** Synchronous: the record is on disk when this returns (the CLI's one-shot writes use it). */
  append(record: JournalRecord): Promise<void> {
    try {
      this.appendSync(record);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  appendSync(record: JournalRecord): void {
    if (this.closed) throw new VigilError(ErrorCodes.INTERNAL, `the journal ${this.path} is closed`);
    if (this.broken) throw new VigilError(ErrorCodes.INTERNAL, `the journal ${this.path} cannot be written: ${this.broken}; restart the controller`);
    const { line, stored } = encodeRecord(record);
    try {
      writeFully(this.fd, line, this.size);
      // fdatasync covers the data and the new length, all a reader needs; it skips the timestamps fsync would also flush.
      fdatasyncSync(this.fd);
    } catch (e) {
      this.undoPartialWrite(e);
    }
    this.size += line.length;
    // Fold what reads back from disk, so this process and the next one see one state.
    this.folded = applyRecord(this.folded, stored);
    if (this.size > this.compactAt) this.compact('size');
  }

  /** What opening found and did: a cut tail, a compaction. */
  get report(): OpenReport {
    return this.rep;
  }

  state(): JournalState {
    return this.folded;
  }

  nextId(): string {
    this.issued = Math.max(this.issued, this.folded.lastSeq) + 1;
    return `i${this.issued}`;
  }

  /** Current size of the file in bytes. */
  bytes(): number {
    return this.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /**
   * Rewrites the file as the records that rebuild the current state. The
   * new file is complete and on disk before it replaces the old one, so a
   * crash at any point leaves one or the other, both meaning the same.
   */
  compact(why: 'size' | 'open' | 'request' = 'request'): void {
    if (this.closed || this.broken) return;
    const now = (this.o.now ?? Date.now)();
    const encoded = compactRecords(this.folded, now).map(encodeRecord);
    if (!isDeepStrictEqual(foldRecords(encoded.map((e) => e.stored)), this.folded)) {
      this.o.logger?.error({ path: this.path }, 'journal: compaction would change the state; not compacting (a bug: please report it)');
      this.compactAt = Math.max(this.compactAt, this.size * 2);
      return;
    }
    const header: JournalHeader = { ...this.header, compacted: new Date(now).toISOString() };
    const bytes = Buffer.concat([encodeHeader(header), ...encoded.map((e) => e.line)]);
    const before = this.size;
    try {
      replaceAtomically(this.dir, this.path, bytes);
    } catch (e) {
      // The old file is intact and still ours: carry on with it, try again after more growth.
      this.o.logger?.error({ path: this.path, err: messageOf(e) }, `journal: compaction failed: ${messageOf(e)}`);
      this.compactAt = Math.max(this.compactAt, this.size * 2);
      return;
    }
    try {
      closeSync(this.fd);
      this.fd = openSync(this.path, 'r+');
    } catch (e) {
      this.broken = `reopening after compaction failed: ${messageOf(e)}`;
      this.o.logger?.error({ path: this.path }, `journal: ${this.broken}`);
      return;
    }
    this.size = bytes.length;
    this.compactAt = Math.max(this.o.compactAtBytes ?? DEFAULT_COMPACT_AT_BYTES, this.size * 2);
    this.rep = { ...this.rep, bytes: this.size, ...(why === 'open' ? { compacted: { beforeBytes: before, afterBytes: this.size, records: encoded.length } } : {}) };
    this.o.logger?.info({ path: this.path, beforeBytes: before, afterBytes: this.size, records: encoded.length, why }, `journal: compacted ${before} -> ${this.size} bytes`);
  }

  /**
   * A failed write may have left part of a line. Take it back, so the next
   * append does not land after garbage (which would read as damage in the
   * middle); if even that fails, stop writing altogether.
   */
  private undoPartialWrite(e: unknown): never {
    try {
      ftruncateSync(this.fd, this.size);
      fdatasyncSync(this.fd);
    } catch (again) {
      this.broken = `a write failed (${messageOf(e)}) and could not be undone (${messageOf(again)})`;
    }
    // After a failed fsync the kernel may have dropped the dirty pages: nothing written since the last good sync can be trusted to be on disk.
    if ((e as NodeJS.ErrnoException).syscall === 'fdatasync' || (e as NodeJS.ErrnoException).syscall === 'fsync') this.broken ??= `syncing to disk failed: ${messageOf(e)}`;
    this.o.logger?.error({ path: this.path, err: messageOf(e) }, `journal: append failed: ${messageOf(e)}`);
    throw new VigilError(ErrorCodes.INTERNAL, `cannot append to the journal ${this.path}: ${messageOf(e)}`, { cause: e, details: { path: this.path } });
  }
}

function readIfExists(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new VigilError(ErrorCodes.JOURNAL_FOREIGN, `${path} is not a regular file; Vigil does not touch it.`, { expected: true, details: { path } });
    // Look at the first line before reading the rest: a foreign file may be large, and its first line is all it takes to refuse it.
    const head = readAt(fd, Math.min(st.size, MAX_HEADER_BYTES + 1));
    if (head.length && !checkHeader(head).ok) return head;
    return readAt(fd, st.size);
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

function appendBytes(path: string, buf: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeFully(fd, buf, fstatSync(fd).size);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` aside, syncs, renames over `path`, syncs the directory: `path` holds the old bytes or the new, never a mix. */
function replaceAtomically(dir: string, path: string, bytes: Buffer): void {
  const tmp = join(dir, `.${JOURNAL_FILE}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeFully(fd, bytes, 0);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkQuietly(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkQuietly(tmp);
    throw e;
  }
  fsyncDir(dir);
}

/** Keeps the torn bytes beside the journal, then truncates to the last good record. */
function cutTail(dir: string, path: string, buf: Buffer, goodEnd: number, tail: TailDamage, now: () => number): TailCut {
  const stamp = new Date(now()).toISOString().replace(/[:.]/g, '-');
  let savedTo = join(dir, `${JOURNAL_FILE}.cut-${stamp}`);
  let fd: number | undefined;
  for (let n = 1; fd === undefined; n++) {
    try {
      fd = openSync(savedTo, 'wx', 0o640);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 100) throw e;
      savedTo = join(dir, `${JOURNAL_FILE}.cut-${stamp}-${n}`);
    }
  }
  try {
    writeFully(fd, buf.subarray(goodEnd), 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(dir);
  const jfd = openSync(path, 'r+');
  try {
    ftruncateSync(jfd, goodEnd);
    fsyncSync(jfd);
  } finally {
    closeSync(jfd);
  }
  return { ...tail, savedTo };
}

/** A crash during compaction leaves its temporary file; the lock says no other process is compacting now. */
function removeCompactionLeftovers(dir: string, logger: JournalLogger | undefined): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!COMPACT_TMP.test(name)) continue;
    unlinkQuietly(join(dir, name));
    logger?.info({ file: join(dir, name) }, 'journal: removed the temporary file of an interrupted compaction');
  }
}

