/**
 * Folding per cluster and merging equals folding everything at once, and
 * replacing a cluster by its compacted records changes nothing: what lets
 * replicas compact one cluster while the others keep their history.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactRecords, foldRecords } from '../../../src/state/journal.js';
import { ClusterFolds } from '../../../src/state/etcd/fold.js';
import { bucketOf, decodeRecord, encodeRecord } from '../../../src/state/etcd/keys.js';
import { histories } from '../records.js';

describe('per-cluster folds', () => {
  it('merge to the fold of all records, through encoding, with any cluster compacted at any point', () => {
    fc.assert(
      fc.property(histories(60), fc.nat(60), fc.constantFrom('c', 'd', '*'), (records, cut, compacted) => {
        const folds = new ClusterFolds();
        records.forEach((r, i) => {
          const d = decodeRecord(Buffer.from(encodeRecord(r)));
          if (!d.ok) throw new Error(d.why);
          folds.apply(bucketOf(d.record), d.record);
          if (i === cut) folds.replace(compacted, compactRecords(folds.clusterState(compacted), 0));
        });
        expect(folds.state()).toEqual(foldRecords(records));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses values that are not records of this format', () => {
    expect(decodeRecord(Buffer.from('garbage'))).toEqual({ ok: false, why: 'not JSON' });
    expect(decodeRecord(Buffer.from('{"v":2,"rec":{}}'))).toMatchObject({ ok: false });
    expect(decodeRecord(Buffer.from('{"v":1,"rec":{"type":"launch","cluster":"c"}}'))).toMatchObject({ ok: false });
  });
});
