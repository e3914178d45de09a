/**
 * bench/journal: what crash safety costs. The median time of one durable
 * `append` (write + fdatasync: the price of every intent the executor
 * writes before a provider call) beside a bare write + fdatasync of the same
 * bytes; opening (verify + fold) a journal of 10,000 records; and
 * compacting it. The figures depend on the disk: the `fs` column says which.
 */
import { closeSync, copyFileSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileJournal, JOURNAL_FILE } from '../src/state/file-journal.js';
import { encodeRecord } from '../src/state/journal-format.js';
import type { JournalRecord } from '../src/state/journal.js';
import { median, round, timeIt, type BenchLine } from './harness.js';

const AT = 1_700_000_000_000;
const intent = (n: number): JournalRecord => ({
  type: 'intent',
  id: `i${n}`,
  cluster: 'prod-east',
  action: { type: 'restart', cluster: 'prod-east', vm: `app-${n % 400}`, vmId: `vm-${n % 400}`, from: 'esx-03', to: 'esx-07', toId: 'host-107', priority: 'high', wave: 2, reason: 'esx-03 failed and was fenced; esx-07 has the most free memory' },
  at: AT + n,
});
const outcome = (n: number): JournalRecord => ({ type: 'outcome', id: `i${n}`, cluster: 'prod-east', ok: true, at: AT + n });

export async function run(): Promise<BenchLine[]> {
  const root = mkdtempSync(join(tmpdir(), 'vigil-bench-journal-'));
  const fs = filesystemOf(root);
  const lines: BenchLine[] = [];
  try {
    const appends = 1_000;
    const j = FileJournal.open(join(root, 'append'));
    let n = 0;
    const t = await timeIt(() => j.append(intent(++n)), appends, 20);
    j.close();
    const bytes = encodeRecord(intent(1)).line;
    lines.push({ name: 'journal-append', records: appends, median_ms: round(t.median, 3), p99_ms: round(percentile(t.samples, 0.99), 3), bytes_per_record: bytes.length, fs });

    const fd = openSync(join(root, 'bare'), 'w');
    const bare = await timeIt(() => {
      writeSync(fd, bytes);
      fdatasyncSync(fd);
    }, appends, 20);
    closeSync(fd);
    lines.push({ name: 'bare write+fdatasync', records: appends, median_ms: round(bare.median, 3), p99_ms: round(percentile(bare.samples, 0.99), 3), bytes_per_record: bytes.length, fs });

    // 10,000 records as a restart wave leaves them: 4,900 intents with their outcomes, 200 intents still open.
    const bigDir = join(root, 'big');
    const big = FileJournal.open(bigDir);
    for (n = 1; n <= 4_900; n++) {
      big.appendSync(intent(n));
      big.appendSync(outcome(n));
    }
    for (; n <= 5_100; n++) big.appendSync(intent(n));
    big.close();
    const bigBytes = statSync(join(bigDir, JOURNAL_FILE)).size;
    const open = await timeIt(() => FileJournal.open(bigDir).close(), 10, 1);
    lines.push({ name: 'journal-open (verify + fold)', records: 10_000, median_ms: round(open.median, 2), bytes: bigBytes, fs });

    const samples: number[] = [];
    let after = 0;
    for (let i = 0; i < 5; i++) {
      const dir = join(root, `compact-${i}`);
      mkdirSync(dir);
      copyFileSync(join(bigDir, JOURNAL_FILE), join(dir, JOURNAL_FILE));
      const c = FileJournal.open(dir);
      const t0 = performance.now();
      c.compact();
      samples.push(performance.now() - t0);
      after = c.bytes();
      c.close();
    }
    lines.push({ name: 'journal-compact', records: 10_000, median_ms: round(median(samples), 2), open_intents: 200, bytes_before: bigBytes, bytes_after: after, fs });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return lines;
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
}

/** The filesystem type of the mount that holds `path` (Linux), since what fsync costs depends on it. */
function filesystemOf(path: string): string {
  try {
    const abs = resolve(path);
    let best = { mount: '', type: 'unknown' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mount, type] = line.split(' ');
      if (mount && type && (abs === mount || abs.startsWith(mount === '/' ? '/' : `${mount}/`)) && mount.length > best.mount.length) best = { mount, type };
    }
    return best.type;
  } catch {
    return 'unknown';
  }
}
