import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/config/problems.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import { DEFAULT_REBALANCE_RULES, rebalanceRules } from '../../src/policy/rebalance-rules.js';
import { tempDir } from '../helpers/tmp.js';

describe('ClusterPolicy rebalance:', () => {
  it('defaults, then "*" policies, then the cluster\'s own, key by key', () => {
    const dir = tempDir({
      'a.yaml': 'kind: ClusterPolicy\nrebalance: {threshold: 20, interval: 30m}\n---\nkind: ClusterPolicy\ncluster: prod\nrebalance: {auto: true, maxMoves: 3}\n',
    });
    const { policies } = loadPolicyDir(dir, dir);
    expect(rebalanceRules(policies!, 'prod')).toEqual({ auto: true, threshold: 20, intervalMs: 1_800_000, maxMoves: 3 });
    expect(rebalanceRules(policies!, 'test')).toEqual({ auto: false, threshold: 20, intervalMs: 1_800_000, maxMoves: 10 });
    const empty = tempDir({ 'a.yaml': 'kind: ClusterPolicy\n' });
    expect(rebalanceRules(loadPolicyDir(empty, empty).policies!, 'x')).toEqual(DEFAULT_REBALANCE_RULES);
  });

  it('reports bad values with their position', () => {
    const dir = tempDir({ 'a.yaml': 'kind: ClusterPolicy\nrebalance: {auto: yes-please, threshold: 0, interval: 10s, maxMove: 3}\n' });
    const r = loadPolicyDir(dir, dir);
    expect(r.policies).toBeUndefined();
    expect(r.problems.map(formatProblem)).toEqual([
      'a.yaml:2:19: rebalance.auto: must be a boolean',
      'a.yaml:2:42: rebalance.threshold: must be at least 1 (percentage point)',
      'a.yaml:2:55: rebalance.interval: must be at least 60000ms',
      'a.yaml:2:60: rebalance: unknown key "maxMove" (did you mean "maxMoves"?)',
    ]);
  });
});
