import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileJournal, JOURNAL_FILE } from '../../src/state/file-journal.js';
import { foldRecords } from '../../src/state/journal.js';
import { tempDir } from '../helpers/tmp.js';
import { histories } from './records.js';

describe('journal compaction (property)', () => {
  it('reopening with compaction, and compacting while appending, give the fold of the records written', () => {
    const root = tempDir();
    let run = 0;
    fc.assert(
      fc.property(histories(40), histories(15), fc.integer({ min: 600, max: 6_000 }), (first, second, compactAtBytes) => {
        const dir = join(root, `r${++run}`);
        // Small thresholds compact in the middle of the sequence, more than once.
        let j = FileJournal.open(dir, { compactAtBytes });
        for (const r of first) j.appendSync(r);
        expect(j.state()).toEqual(foldRecords(first));
        j.close();

        j = FileJournal.open(dir, { compactOnOpen: true });
        expect(j.report.compacted).toBeDefined();
        expect(j.state()).toEqual(foldRecords(first));
        const text = readFileSync(join(dir, JOURNAL_FILE), 'utf8');
        expect(text.split('\n')[1]).toContain('"type":"checkpoint"');

        for (const r of second) j.appendSync(r);
        j.close();
        j = FileJournal.open(dir);
        expect(j.state()).toEqual(foldRecords([...first, ...second]));
        j.close();
      }),
      { numRuns: 60 },
    );
  });
});
