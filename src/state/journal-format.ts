/**
 * The bytes of `journal.jsonl` (docs/journal.md): a header line that says
 * the file is Vigil's journal and its format, then one record per line,
 * each carrying the CRC-32 of its own JSON bytes. Every line is JSON, so
 * `tail` and `jq` work on it. This module only encodes and classifies
 * bytes; it never touches the disk.
 */
import { crc32 } from 'node:zlib';
import type { JournalRecord } from './journal.js';

export const JOURNAL_FORMAT = 1;

export interface JournalHeader {
  readonly vigil: 'journal';
  readonly format: number;
  /** When the journal was first created (ISO time). */
  readonly created: string;
  /** When it was last rewritten by compaction. */
  readonly compacted?: string;
}

// A record type added to JournalRecord must be added here too (the compiler insists), or files holding it would be refused.
const KNOWN: Record<JournalRecord['type'], true> = {
  intent: true,
  started: true,
  outcome: true,
  'attempts-reset': true,
  attempts: true,
  fenced: true,
  'fence-confirmed': true,
  'host-back': true,
  freeze: true,
  unfreeze: true,
  checkpoint: true,
};
const RECORD_TYPES: ReadonlySet<string> = new Set(Object.keys(KNOWN));

const NL = 0x0a;
// `{"rec":<record JSON>,"crc32":"xxxxxxxx"}`: the checksum sits at a fixed offset from the end, so the record's exact bytes can be sliced out and checked.
const PREFIX = Buffer.from('{"rec":');
const SUFFIX_LEN = ',"crc32":"xxxxxxxx"}'.length;
const SUFFIX_HEAD = Buffer.from(',"crc32":"');
const SUFFIX_TAIL = Buffer.from('"}');
/** A first line longer than this is not our header; do not even try to parse it. */
export const MAX_HEADER_BYTES = 4096;

export function encodeHeader(h: JournalHeader): Buffer {
  return Buffer.from(`${JSON.stringify(h)}\n`);
}

/** One record line, newline included, and the record as it will read back from disk. */
export function encodeRecord(r: JournalRecord): { line: Buffer; stored: JournalRecord } {
  const json = JSON.stringify(r);
  const body = Buffer.from(json);
  const crc = crc32(body).toString(16).padStart(8, '0');
  const line = Buffer.concat([PREFIX, body, Buffer.from(`,"crc32":"${crc}"}\n`)]);
  return { line, stored: JSON.parse(json) as JournalRecord };
}

export type HeaderCheck = { readonly ok: true; readonly header: JournalHeader; readonly end: number; readonly terminated: boolean } | { readonly ok: false; readonly why: string };

/** Reads the first line of a non-empty file: Vigil's journal header, or why not. */
export function checkHeader(buf: Buffer): HeaderCheck {
  const nl = buf.indexOf(NL);
  const end = nl === -1 ? buf.length : nl;
  if (end > MAX_HEADER_BYTES) return { ok: false, why: `its first line is ${end} bytes long, not a journal header` };
  const first = buf.subarray(0, end);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(first);
  } catch {
    return { ok: false, why: 'it holds binary data' };
  }
  if (first.some((b) => b < 0x09 || (b > 0x0d && b < 0x20))) return { ok: false, why: 'it holds binary data' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, why: 'its first line is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || (parsed as { vigil?: unknown }).vigil !== 'journal') {
    return { ok: false, why: 'its first line is JSON but not a Vigil journal header' };
  }
  const h = parsed as Partial<JournalHeader>;
  if (h.format !== JOURNAL_FORMAT) {
    return { ok: false, why: `it is a Vigil journal in format ${JSON.stringify(h.format)}, and this Vigil reads format ${JOURNAL_FORMAT} (written by another version?)` };
  }
  if (typeof h.created !== 'string') return { ok: false, why: 'its header has no creation time' };
  return { ok: true, header: h as JournalHeader, end: nl === -1 ? buf.length : nl + 1, terminated: nl !== -1 };
}

export type LineCheck =
  | { readonly kind: 'ok'; readonly record: JournalRecord }
  /** Bytes that a torn or damaged write leaves: incomplete, bad checksum, not our line shape. */
  | { readonly kind: 'damaged'; readonly why: string }
  /** The checksum holds but the content is not a record: written whole by something else. */
  | { readonly kind: 'invalid'; readonly why: string };

export interface ScannedLine {
  /** 1-based; the header is line 1. */
  readonly number: number;
  readonly start: number;
  /** Offset just past the line's newline (or the end of the file). */
  readonly end: number;
  readonly check: LineCheck;
}

/** Classifies every line after the header. */
export function scanLines(buf: Buffer, from: number): ScannedLine[] {
  const out: ScannedLine[] = [];
  let start = from;
  let number = 2;
  while (start < buf.length) {
    const nl = buf.indexOf(NL, start);
    const terminated = nl !== -1;
    const end = terminated ? nl + 1 : buf.length;
    const line = buf.subarray(start, terminated ? nl : buf.length);
    // Every append writes its newline last, in the same write: a line without one was torn, whatever its bytes say.
    const check: LineCheck = terminated ? checkLine(line) : { kind: 'damaged', why: 'the line is incomplete (no newline at its end)' };
    out.push({ number, start, end, check });
    start = end;
    number += 1;
  }
  return out;
}

function checkLine(line: Buffer): LineCheck {
  if (line.at(-1) === 0x0d) return { kind: 'damaged', why: 'the line ends with a carriage return (was the file edited or copied as Windows text?)' };
  if (line.length < PREFIX.length + SUFFIX_LEN + 2) return { kind: 'damaged', why: line.length ? 'the line is too short to be a record' : 'the line is empty' };
  const suffixAt = line.length - SUFFIX_LEN;
  if (!line.subarray(0, PREFIX.length).equals(PREFIX) || !line.subarray(suffixAt, suffixAt + SUFFIX_HEAD.length).equals(SUFFIX_HEAD) || !line.subarray(line.length - SUFFIX_TAIL.length).equals(SUFFIX_TAIL)) {
    return { kind: 'damaged', why: 'the line does not have the shape of a record' };
  }
  const hex = line.subarray(suffixAt + SUFFIX_HEAD.length, line.length - SUFFIX_TAIL.length).toString('latin1');
  if (!/^[0-9a-f]{8}$/.test(hex)) return { kind: 'damaged', why: 'the checksum field is damaged' };
  const body = line.subarray(PREFIX.length, suffixAt);
  if (crc32(body) !== parseInt(hex, 16)) return { kind: 'damaged', why: 'the checksum does not match' };
  let rec: unknown;
  try {
    rec = JSON.parse(body.toString('utf8'));
  } catch {
    return { kind: 'invalid', why: 'the checksum matches but the record is not JSON' };
  }
  if (typeof rec !== 'object' || rec === null || !RECORD_TYPES.has(String((rec as { type?: unknown }).type))) {
    return { kind: 'invalid', why: 'the checksum matches but it is not a known record type' };
  }
  const r = rec as JournalRecord;
  if ((r.type === 'intent' || r.type === 'started' || r.type === 'outcome') && typeof r.id !== 'string') return { kind: 'invalid', why: `the checksum matches but the ${r.type} record has no id` };
  return { kind: 'ok', record: r };
}

export interface TailDamage {
  /** The first line cut (1-based, the header is line 1). */
  readonly line: number;
  readonly lines: number;
  readonly bytes: number;
  readonly why: string;
}

export type JournalRead =
  | { readonly kind: 'empty' }
  | { readonly kind: 'foreign'; readonly why: string }
  | { readonly kind: 'corrupt'; readonly line: number; readonly why: string }
  | {
      readonly kind: 'ok';
      readonly header: JournalHeader;
      /** False only for a file that holds the header and nothing else, without its newline. */
      readonly headerTerminated: boolean;
      readonly records: JournalRecord[];
      /** Offset just past the last good record: what stays when a torn tail is cut. */
      readonly goodEnd: number;
      readonly tail?: TailDamage;
    };

/**
 * What the bytes of a journal file are. Each append is made durable before
 * the next one starts, so a crash can tear only the last line: that alone is
 * cut. Damage anywhere else, or a whole line that checks out but is not a
 * record, did not come from a crash, and is refused rather than guessed at.
 */
export function readJournalBytes(buf: Buffer): JournalRead {
  if (buf.length === 0) return { kind: 'empty' };
  const head = checkHeader(buf);
  if (!head.ok) return { kind: 'foreign', why: head.why };
  const lines = scanLines(buf, head.end);
  let lastOk = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]?.check.kind === 'ok') {
      lastOk = i;
      break;
    }
  }
  const records: JournalRecord[] = [];
  for (let i = 0; i <= lastOk; i++) {
    const l = lines[i] as ScannedLine;
    if (l.check.kind !== 'ok') {
      const after = lines.slice(i + 1).filter((x) => x.check.kind === 'ok').length;
      return { kind: 'corrupt', line: l.number, why: `${l.check.why}, and ${after} valid record${after === 1 ? '' : 's'} follow${after === 1 ? 's' : ''} it, so it is not a torn write` };
    }
    records.push(l.check.record);
  }
  const goodEnd = lastOk === -1 ? head.end : (lines[lastOk] as ScannedLine).end;
  const bad = lines.slice(lastOk + 1);
  const base = { kind: 'ok' as const, header: head.header, headerTerminated: head.terminated, records, goodEnd };
  if (!bad.length) return base;
  const whole = bad.find((l) => l.check.kind === 'invalid');
  if (whole && whole.check.kind === 'invalid') return { kind: 'corrupt', line: whole.number, why: `${whole.check.why}: it was written whole, not torn` };
  const first = bad[0] as ScannedLine;
  if (bad.length > 1) {
    const last = first.number + bad.length - 1;
    const rest = bad.length === 2 ? `line ${last} after it is damaged too` : `lines ${first.number + 1}-${last} after it are damaged too`;
    return { kind: 'corrupt', line: first.number, why: `${first.check.kind === 'damaged' ? first.check.why : ''}, and ${rest}; a crash damages only the last line, so this is not a torn write` };
  }
  return { ...base, tail: { line: first.number, lines: 1, bytes: buf.length - goodEnd, why: first.check.kind === 'damaged' ? first.check.why : '' } };
}
