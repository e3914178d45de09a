import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOURNAL_FILE } from '../../src/state/file-journal.js';
import { encodeRecord } from '../../src/state/journal-format.js';
import { foldRecords, type JournalRecord, type JournalState } from '../../src/state/journal.js';
import { openState } from '../../src/state/open-state.js';
import { tempDir } from '../helpers/tmp.js';
import { startChild } from './state-child.js';

const ROUNDS = 8;

describe('journal crash consistency', () => {
  it('a writer SIGKILLed at random moments loses no record whose append returned, and the state is the fold of what was written', async () => {
    const dir = join(tempDir(), 'state');
    // Survived so far: what every reopen must find, in order.
    const history: JournalRecord[] = [];
    let appended = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const writer = startChild('journal-writer.mjs', [dir, String(1000 + round), '8192']);
      await writer.waitFor(/^opened /);
      await new Promise((r) => setTimeout(r, 30 + Math.random() * 300));
      await writer.kill();

      const ok: JournalRecord[] = [];
      let inFlight: JournalRecord | undefined;
      for (const line of writer.lines) {
        if (line.startsWith('will ')) inFlight = JSON.parse(line.slice(5)) as JournalRecord;
        if (line.startsWith('ok ')) {
          ok.push(JSON.parse(line.slice(3)) as JournalRecord);
          inFlight = undefined;
        }
      }
      appended += ok.length;

      // The test process takes over the lock the killed writer left, as a restarted controller would.
      const s = openState(dir);
      const found = s.journal.state();
      const cut = s.report.cut;
      s.close();
      // SIGKILL can stop a write between two pages: the torn line, cut, is then the start of the record in flight, and only that.
      if (cut) {
        expect(inFlight).toBeDefined();
        expect(encodeRecord(inFlight as JournalRecord).line.subarray(0, cut.bytes)).toEqual(readFileSync(cut.savedTo));
        rmSync(cut.savedTo);
      }
      const durable = [...history, ...ok];
      const candidates: JournalRecord[][] = inFlight ? [durable, [...durable, inFlight]] : [durable];
      const match = candidates.find((c) => sameState(foldRecords(c), found));
      expect(match, `round ${round}: the reopened state is not the fold of a prefix of what was written (${ok.length} records acknowledged, in flight: ${JSON.stringify(inFlight)})`).toBeDefined();
      history.splice(0, history.length, ...(match as JournalRecord[]));

      // Spelled out: every intent acknowledged and not since closed is there.
      const closed = new Set(history.filter((r) => r.type === 'outcome').map((r) => (r as { id: string }).id));
      for (const r of ok) if (r.type === 'intent' && !closed.has(r.id)) expect(found.open.has(r.id)).toBe(true);
      const ids = history.filter((r) => r.type === 'intent').map((r) => (r as { id: string }).id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(appended).toBeGreaterThan(ROUNDS * 5);
    expect(history.length).toBeGreaterThan(ROUNDS * 5);
    expect(readdirSync(dir).sort()).toEqual([JOURNAL_FILE]);
    // The writers compacted along the way (8 KiB threshold), so kills also landed around compactions.
    expect(JSON.parse(readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n')[0] as string)).toHaveProperty('compacted');
  }, 90_000);
});

function sameState(a: JournalState, b: JournalState): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}
