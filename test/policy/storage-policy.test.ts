/** The storage keys of policies: thresholds checked with their positions, merging, defaults. */
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/config/problems.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import { DEFAULT_STORAGE_RULES } from '../../src/policy/policy-set.js';
import { tempDir } from '../helpers/tmp.js';

function load(files: Record<string, string>) {
  const dir = tempDir(files);
  return loadPolicyDir(dir, dir);
}

describe('storage policy keys', () => {
  it('refuses thresholds out of range, inconsistent or half-set, each at its position', () => {
    const r = load({
      'a.yaml': 'kind: ClusterPolicy\nstorage:\n  freeWarning: 5\n  freeCritical: 10\n',
      'b.yaml': 'kind: ClusterPolicy\nstorage: {freeWarning: 120, freeCritical: 5}\n',
      'c.yaml': 'kind: ClusterPolicy\nstorage:\n  freeCritical: 5\n',
      'd.yaml': 'kind: ClusterPolicy\ncluster: prod\nstorage: {freeWarning: 10, freeCritical: 10}\n',
      'e.yaml': 'kind: ClusterPolicy\nstorage: {onLoss: restart, rpo: 15}\n',
      'f.yaml': 'kind: VmPolicy\nname: x\nreplication: {rpo: 0s, acceptDataLos: true}\n',
    });
    expect(r.policies).toBeUndefined();
    expect(r.problems.map(formatProblem)).toEqual([
      'a.yaml:4:17: storage.freeCritical: freeCritical (10%) must be below freeWarning (5%): free space, lower is worse',
      'b.yaml:2:24: storage.freeWarning: must be a percentage from 0 to 100',
      'c.yaml:3:17: storage.freeCritical: set freeWarning too: the two levels go together (without them, the datastoreFree levels of the alerts section apply)',
      'd.yaml:3:42: storage.freeCritical: freeCritical (10%) must be below freeWarning (10%): free space, lower is worse',
      'e.yaml:2:19: storage.onLoss: must be one of "alert", "migrate", "migrate-and-restart"',
      'e.yaml:2:33: storage.rpo: must be a string',
      'f.yaml:3:20: replication.rpo: must be at least 1000ms',
      'f.yaml:3:24: replication: unknown key "acceptDataLos" (did you mean "acceptDataLoss"?)',
    ]);
  });

  it('merges "*" then the cluster key by key; the two free levels travel together; VmPolicy replication overrides', () => {
    const r = load({
      'a.yaml': [
        'kind: ClusterPolicy',
        'storage: {freeWarning: 20, freeCritical: 10, rpo: 15m, acceptDataLoss: false}',
        '---',
        'kind: ClusterPolicy',
        'cluster: prod',
        'storage: {onLoss: migrate-and-restart, actAfter: 1m}',
        '---',
        'kind: VmPolicy',
        'name: dr',
        'match: {names: ["db-*"]}',
        'replication: {rpo: 5m, acceptDataLoss: true}',
        '',
      ].join('\n'),
    });
    expect(r.problems).toEqual([]);
    const p = r.policies;
    expect(p?.clusterRules('prod').storage).toEqual({ free: { warningPercent: 20, criticalPercent: 10 }, onLoss: 'migrate-and-restart', actAfterMs: 60_000, rpoMs: 900_000, acceptDataLoss: false });
    expect(p?.clusterRules('lab').storage).toMatchObject({ onLoss: 'migrate', actAfterMs: 30_000 });
    expect(p?.replicationRules('prod', { name: 'db-01', labels: {} })).toEqual({ rpoMs: 300_000, acceptDataLoss: true, policy: 'dr' });
    expect(p?.replicationRules('prod', { name: 'web-01', labels: {} })).toEqual({ rpoMs: 900_000, acceptDataLoss: false });
  });

  it('defaults to live migration on loss, no RPO, no data loss accepted, and the alerts section’s levels', () => {
    const r = load({ 'a.yaml': 'kind: ClusterPolicy\noverommit: {}\n' });
    expect(r.problems.length).toBe(1);
    expect(DEFAULT_STORAGE_RULES).toEqual({ onLoss: 'migrate', actAfterMs: 30_000, acceptDataLoss: false });
  });
});
