import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import { builtinPath } from '../../src/paths.js';
import { FileJournal, JOURNAL_FILE, type FileJournalOptions } from '../../src/state/file-journal.js';
import { encodeRecord } from '../../src/state/journal-format.js';
import { foldRecords, type JournalRecord } from '../../src/state/journal.js';
import { tempDir } from '../helpers/tmp.js';
import { intent, restart } from './records.js';

let n = 0;
const freshDir = (): string => join(tempDir(), `state-${++n}`);

function writeAll(dir: string, records: readonly JournalRecord[], options: FileJournalOptions = {}): FileJournal {
  const j = FileJournal.open(dir, options);
  for (const r of records) j.appendSync(r);
  return j;
}

function refusal(fn: () => unknown): VigilError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VigilError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

/** Line `n` (1-based) of a journal file: its start offset and bytes. */
function lineOf(buf: Buffer, n: number): { start: number; end: number } {
  let start = 0;
  for (let i = 1; i < n; i++) start = buf.indexOf(0x0a, start) + 1;
  const nl = buf.indexOf(0x0a, start);
  return { start, end: nl === -1 ? buf.length : nl + 1 };
}

const history: JournalRecord[] = [
  intent(1, 'web-1'),
  { type: 'started', id: 'i1', cluster: 'c', task: { id: 't1', op: 'restart' }, at: 2 },
  { type: 'outcome', id: 'i1', cluster: 'c', ok: false, message: 'not enough memory on h1', at: 3 },
  intent(2, 'web-1'),
  intent(3, 'db-1'),
  { type: 'fenced', cluster: 'c', host: 'h0', agent: 'redfish', evidence: 'PowerState Off', at: 4 },
  { type: 'freeze', cluster: 'd', reason: 'mass failure: 3 hosts in 60s', by: 'controller', at: 5 },
];

describe('FileJournal', () => {
  it('creates the directory and a header-only file, which is a valid empty journal', () => {
    const dir = freshDir();
    const j = FileJournal.open(dir, { now: () => Date.parse('2025-01-02T03:04:05Z') });
    expect(j.report.created).toBe(true);
    expect(j.state()).toEqual(foldRecords([]));
    j.close();
    const text = readFileSync(join(dir, JOURNAL_FILE), 'utf8');
    expect(JSON.parse(text.trim())).toEqual({ vigil: 'journal', format: 1, created: '2025-01-02T03:04:05.000Z' });
    const again = FileJournal.open(dir);
    expect(again.report).toMatchObject({ created: false, records: 0 });
    expect(again.report.cut).toBeUndefined();
    again.close();
    expect(readFileSync(join(dir, JOURNAL_FILE), 'utf8')).toBe(text);
  });

  it('takes an empty file as an empty journal and gives it a header', () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(join(dir, JOURNAL_FILE), '');
    const j = FileJournal.open(dir);
    expect(j.report.created).toBe(true);
    j.appendSync(intent(1));
    j.close();
    const lines = readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ vigil: 'journal', format: 1 });
    expect(lines).toHaveLength(3);
  });

  it('accepts a header without its newline, and appends after it', () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(join(dir, JOURNAL_FILE), '{"vigil":"journal","format":1,"created":"2025-01-01T00:00:00.000Z"}');
    writeAll(dir, [intent(1)]).close();
    const j = FileJournal.open(dir);
    expect(j.report.records).toBe(1);
    expect([...j.state().open.keys()]).toEqual(['i1']);
    j.close();
  });

  it('writes one human-readable JSON line per record, with the CRC-32 of its bytes', () => {
    const dir = freshDir();
    writeAll(dir, history).close();
    const lines = readFileSync(join(dir, JOURNAL_FILE), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(history.length + 1);
    const parsed = lines.slice(1).map((l) => JSON.parse(l));
    expect(parsed.map((p) => p.rec)).toEqual(history);
    for (const p of parsed) expect(p.crc32).toMatch(/^[0-9a-f]{8}$/);
    expect(lines[1]).toMatch(/^\{"rec":\{"type":"intent","id":"i1",/);
  });

  it('keeps records across close and reopen, folding to the same state', () => {
    const dir = freshDir();
    const j = writeAll(dir, history);
    const before = j.state();
    expect(before).toEqual(foldRecords(history));
    j.close();
    const again = FileJournal.open(dir);
    expect(again.report.records).toBe(history.length);
    expect(again.state()).toEqual(before);
    again.close();
  });

  it('never writes an intent id twice: across calls, reopen and compaction', () => {
    const dir = freshDir();
    const seen = new Set<string>();
    const take = (j: FileJournal): string => {
      const id = j.nextId();
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      return id;
    };
    let j = FileJournal.open(dir, { compactAtBytes: 1_500 });
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 12; i++) {
        const id = take(j);
        j.appendSync({ type: 'intent', id, cluster: 'c', action: restart(`vm${i}`, 'h1'), at: i });
        // Every restart ends: compaction keeps no intent, only the checkpoint remembers how far ids went.
        j.appendSync({ type: 'outcome', id, cluster: 'c', ok: true, at: i });
      }
      // Handed out but never written (a crash before the append): harmless if the next process hands it out again, but not this one.
      const unwritten = j.nextId();
      expect(seen.has(unwritten)).toBe(false);
      expect(j.nextId()).not.toBe(unwritten);
      j.close();
      j = FileJournal.open(dir, { compactOnOpen: round % 2 === 0 });
      expect(j.state().open.size).toBe(0);
    }
    expect(j.report.compacted).toBeUndefined();
    const text = readFileSync(join(dir, JOURNAL_FILE), 'utf8');
    expect(text).toContain('"type":"checkpoint"');
    expect(j.state().lastSeq).toBeGreaterThanOrEqual(48);
    j.close();
    expect(seen.size).toBe(48);
  });

  describe('a torn tail', () => {
    function goodJournal(): { dir: string; path: string; good: Buffer } {
      const dir = freshDir();
      writeAll(dir, history).close();
      const path = join(dir, JOURNAL_FILE);
      return { dir, path, good: readFileSync(path) };
    }

    it('an incomplete last line is cut, reported and logged; later appends work and survive', () => {
      const { dir, path, good } = goodJournal();
      const partial = encodeRecord(intent(4, 'app')).line.subarray(0, 37);
      writeFileSync(path, Buffer.concat([good, partial]));
      const warnings: { obj: unknown; msg: string }[] = [];
      const logger = { info: () => {}, error: () => {}, warn: (obj: unknown, msg: string) => warnings.push({ obj, msg }) } as unknown as FileJournalOptions['logger'];
      const j = FileJournal.open(dir, { logger });
      expect(j.report.cut).toMatchObject({ line: history.length + 2, lines: 1, bytes: 37, why: expect.stringContaining('incomplete') });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toContain('37 bytes');
      expect(warnings[0]?.obj).toMatchObject({ bytesCut: 37, recordsCut: 1 });
      expect(readFileSync(j.report.cut?.savedTo as string)).toEqual(partial);
      expect(j.state()).toEqual(foldRecords(history));
      const later = [intent(5, 'app'), { type: 'outcome', id: 'i5', cluster: 'c', ok: true, at: 9 } as const];
      for (const r of later) j.appendSync(r);
      j.close();
      expect(readFileSync(path)).toEqual(Buffer.concat([good, ...later.map((r) => encodeRecord(r).line)]));
      const again = FileJournal.open(dir);
      expect(again.report.cut).toBeUndefined();
      expect(again.state()).toEqual(foldRecords([...history, ...later]));
      again.close();
    });

    it('a flipped byte in the last record is cut as a torn write', () => {
      const { dir, path, good } = goodJournal();
      const last = lineOf(good, history.length + 1);
      const damaged = Buffer.from(good);
      const at = last.start + 20;
      damaged[at] = (damaged[at] as number) ^ 0x04;
      writeFileSync(path, damaged);
      const j = FileJournal.open(dir);
      expect(j.report.cut).toMatchObject({ line: history.length + 1, lines: 1, bytes: last.end - last.start, why: 'the checksum does not match' });
      expect(j.state()).toEqual(foldRecords(history.slice(0, -1)));
      const r = intent(9, 'app');
      j.appendSync(r);
      j.close();
      expect(readFileSync(path)).toEqual(Buffer.concat([good.subarray(0, last.start), encodeRecord(r).line]));
      const again = FileJournal.open(dir);
      expect(again.state()).toEqual(foldRecords([...history.slice(0, -1), r]));
      again.close();
    });

    it('a damaged checksum field, and zeros where the last record should be, are cut too', () => {
      for (const damage of ['checksum', 'zeros'] as const) {
        const { dir, path, good } = goodJournal();
        const last = lineOf(good, history.length + 1);
        const damaged = Buffer.from(good);
        if (damage === 'checksum') damaged[last.end - 4] = 0x7a; // 'z' inside the hex
        else damaged.fill(0, last.start, last.end);
        writeFileSync(path, damaged);
        const j = FileJournal.open(dir);
        expect(j.report.cut?.line).toBe(history.length + 1);
        j.close();
        expect(readFileSync(path)).toEqual(good.subarray(0, last.start));
      }
    });
  });

  describe('refuses, and leaves the file as it was', () => {
    function expectUntouched(dir: string, bytes: Buffer, code: string, fn: () => unknown): VigilError {
      const path = join(dir, JOURNAL_FILE);
      const listing = readdirSync(dir).sort();
      const e = refusal(fn);
      expect(e.code).toBe(code);
      expect(e.expected).toBe(true);
      expect(e.message).toContain(path);
      expect(readFileSync(path)).toEqual(bytes);
      expect(readdirSync(dir).sort()).toEqual(listing);
      return e;
    }

    it('a damaged record with valid records after it, naming its line', () => {
      const dir = freshDir();
      writeAll(dir, history).close();
      const path = join(dir, JOURNAL_FILE);
      const good = readFileSync(path);
      const third = lineOf(good, 3);
      const damaged = Buffer.from(good);
      damaged[third.start + 30] = (damaged[third.start + 30] as number) ^ 0x01;
      writeFileSync(path, damaged);
      const e = expectUntouched(dir, damaged, ErrorCodes.JOURNAL_CORRUPT, () => FileJournal.open(dir));
      expect(e.message).toContain('line 3 is damaged');
      expect(e.message).toContain(`${history.length - 2} valid records follow it`);
      expect(e.details).toMatchObject({ line: 3 });
    });

    it('a torn line in the middle (a partial record followed by good ones)', () => {
      const dir = freshDir();
      mkdirSync(dir);
      const header = '{"vigil":"journal","format":1,"created":"2025-01-01T00:00:00.000Z"}\n';
      const bytes = Buffer.concat([Buffer.from(header), encodeRecord(intent(1)).line.subarray(0, 40), Buffer.from('\n'), encodeRecord(intent(2)).line]);
      writeFileSync(join(dir, JOURNAL_FILE), bytes);
      const e = expectUntouched(dir, bytes, ErrorCodes.JOURNAL_CORRUPT, () => FileJournal.open(dir));
      expect(e.message).toContain('line 2');
    });

    it('several damaged lines at the end: a crash tears only one', () => {
      const dir = freshDir();
      writeAll(dir, history).close();
      const path = join(dir, JOURNAL_FILE);
      // As an editor saving with Windows line ends would leave it.
      const crlf = Buffer.from(readFileSync(path, 'utf8').replace(/\n/g, '\r\n').replace(/^([^\r]*)\r\n/, '$1\n'));
      writeFileSync(path, crlf);
      const e = expectUntouched(dir, crlf, ErrorCodes.JOURNAL_CORRUPT, () => FileJournal.open(dir));
      expect(e.message).toContain(`line 2 is damaged: the line ends with a carriage return (was the file edited or copied as Windows text?), and lines 3-${history.length + 1} after it are damaged too`);
    });

    it('a damaged last record followed by a torn line', () => {
      const dir = freshDir();
      writeAll(dir, history).close();
      const path = join(dir, JOURNAL_FILE);
      const good = readFileSync(path);
      const last = lineOf(good, history.length + 1);
      const bytes = Buffer.concat([good, encodeRecord(intent(8)).line.subarray(0, 50)]);
      bytes[last.start + 12] = (bytes[last.start + 12] as number) ^ 0x02;
      writeFileSync(path, bytes);
      const e = expectUntouched(dir, bytes, ErrorCodes.JOURNAL_CORRUPT, () => FileJournal.open(dir));
      expect(e.message).toContain(`line ${history.length + 1} is damaged: the checksum does not match, and line ${history.length + 2} after it is damaged too`);
    });

    it('a whole line whose checksum holds but which is not a record', () => {
      const dir = freshDir();
      writeAll(dir, [intent(1)]).close();
      const path = join(dir, JOURNAL_FILE);
      const bytes = Buffer.concat([readFileSync(path), encodeRecord({ type: 'reboot', at: 1 } as unknown as JournalRecord).line]);
      writeFileSync(path, bytes);
      const e = expectUntouched(dir, bytes, ErrorCodes.JOURNAL_CORRUPT, () => FileJournal.open(dir));
      expect(e.message).toContain('line 3');
      expect(e.message).toContain('not a known record type');
    });

    const foreign: [string, Buffer, string][] = [
      ['a binary file', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x0a, 0xff, 0xfe, 0x00]), 'binary'],
      ['someone else’s JSON', Buffer.from('{"name":"my-app","version":"1.0.0"}\n'), 'not a Vigil journal header'],
      ['a JSON array', Buffer.from('[1,2,3]\n'), 'not a Vigil journal header'],
      ['another tool’s JSON lines', Buffer.from('{"level":30,"msg":"hello"}\n{"level":30,"msg":"again"}\n'), 'not a Vigil journal header'],
      ['plain text', Buffer.from('controller:\n  stateDir: /var/lib/vigil\n'), 'not JSON'],
      ['a journal of another format', Buffer.from('{"vigil":"journal","format":2,"created":"2030-01-01T00:00:00.000Z"}\n'), 'format 2'],
      ['a file of one long line', Buffer.alloc(10_000, 0x61), 'not a journal header'],
      ['a blank first line', Buffer.from('\n{"vigil":"journal","format":1,"created":"2025-01-01T00:00:00.000Z"}\n'), 'not JSON'],
    ];
    for (const [what, bytes, why] of foreign) {
      it(`a file that is not Vigil's journal: ${what}`, () => {
        const dir = freshDir();
        mkdirSync(dir);
        writeFileSync(join(dir, JOURNAL_FILE), bytes);
        const e = expectUntouched(dir, bytes, ErrorCodes.JOURNAL_FOREIGN, () => FileJournal.open(dir));
        expect(e.message).toContain('is not a Vigil journal');
        expect(e.message).toContain(why);
      });
    }

    it('a directory where the journal should be', () => {
      const dir = freshDir();
      mkdirSync(join(dir, JOURNAL_FILE), { recursive: true });
      const e = refusal(() => FileJournal.open(dir));
      expect(e.code).toBe(ErrorCodes.JOURNAL_FOREIGN);
      expect(readdirSync(join(dir, JOURNAL_FILE))).toEqual([]);
    });
  });

  describe('compaction', () => {
    it('starts when the file passes the size, keeps the state, and later records still count', () => {
      const dir = freshDir();
      const j = FileJournal.open(dir, { compactAtBytes: 2_000 });
      const written: JournalRecord[] = [];
      let compactions = 0;
      let last = j.bytes();
      for (let i = 1; i <= 60; i++) {
        const rs: JournalRecord[] = [intent(i, `vm${i % 7}`)];
        if (i % 3) rs.push({ type: 'outcome', id: `i${i}`, cluster: 'c', ok: i % 2 === 0, message: 'boom', at: i });
        for (const r of rs) {
          j.appendSync(r);
          written.push(r);
          if (j.bytes() < last) compactions++;
          last = j.bytes();
          expect(j.state()).toEqual(foldRecords(written));
        }
      }
      expect(compactions).toBeGreaterThan(2);
      j.close();
      const again = FileJournal.open(dir);
      expect(again.state()).toEqual(foldRecords(written));
      again.close();
      expect(readdirSync(dir)).toEqual([JOURNAL_FILE]);
    });

    it('on open, when asked: reported, the header keeps its creation time', () => {
      const dir = freshDir();
      writeAll(dir, history, { now: () => 0 }).close();
      const j = FileJournal.open(dir, { compactOnOpen: true, now: () => 1_000 });
      expect(j.report.compacted).toMatchObject({ records: expect.any(Number) });
      expect(j.report.compacted?.afterBytes).toBeLessThan(j.report.compacted?.beforeBytes as number);
      expect(j.state()).toEqual(foldRecords(history));
      j.close();
      const header = JSON.parse(readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n')[0] as string);
      expect(header).toEqual({ vigil: 'journal', format: 1, created: '1970-01-01T00:00:00.000Z', compacted: '1970-01-01T00:00:01.000Z' });
    });

    it('removes the temporary file an interrupted compaction left', () => {
      const dir = freshDir();
      writeAll(dir, history).close();
      writeFileSync(join(dir, '.journal.jsonl.4242.tmp'), 'half a compaction');
      const j = FileJournal.open(dir);
      expect(j.state()).toEqual(foldRecords(history));
      j.close();
      expect(existsSync(join(dir, '.journal.jsonl.4242.tmp'))).toBe(false);
    });
  });

  it('takes back a write that stopped part-way (file too large), so the file ends on a whole record', () => {
    const dir = freshDir();
    const script = builtinPath('test', 'state', 'journal-full-disk.mjs');
    // ulimit -f 16: writes stop at 16 KiB, in the middle of some record.
    const r = spawnSync('bash', ['-c', `ulimit -f 16 && exec "${process.execPath}" "${script}" "${dir}"`], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    const count = Number(/^ok (\d+)$/m.exec(r.stdout)?.[1]);
    expect(count).toBeGreaterThan(10);
    expect(r.stdout).toContain(`failed ${ErrorCodes.INTERNAL} cannot append to the journal ${join(dir, JOURNAL_FILE)}: EFBIG`);
    const bytes = readFileSync(join(dir, JOURNAL_FILE));
    expect(bytes.length).toBeLessThan(16 * 1024);
    expect(bytes.at(-1)).toBe(0x0a);
    const j = FileJournal.open(dir);
    expect(j.report.cut).toBeUndefined();
    expect(j.report.records).toBe(count);
    expect(j.state().frozen.size).toBe(count);
    j.appendSync(intent(1));
    j.close();
  });

  it('refuses to append once closed', async () => {
    const j = FileJournal.open(freshDir());
    j.close();
    expect(() => j.appendSync(intent(1))).toThrow(/closed/);
    await expect(j.append(intent(1))).rejects.toThrow(/closed/);
  });
});

describe('docs/journal.md', () => {
  it('shows record lines whose checksums hold', () => {
    const doc = readFileSync(builtinPath('docs', 'journal.md'), 'utf8');
    const lines = doc.split('\n').filter((l) => l.startsWith('{"rec":'));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) {
      const rec = JSON.parse(l).rec as JournalRecord;
      expect(encodeRecord(rec).line.toString()).toBe(`${l}\n`);
    }
  });
});
