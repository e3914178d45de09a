import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/config/problems.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import { builtinPath } from '../../src/paths.js';
import { tempDir } from '../helpers/tmp.js';

function load(files: Record<string, string>) {
  const dir = tempDir(files);
  return loadPolicyDir(dir, dir);
}

describe('policy loading', () => {
  it('loads the shipped example policies', () => {
    const r = loadPolicyDir(builtinPath('policies'));
    expect(r.problems).toEqual([]);
    expect(r.policies?.vmRules('lab', { name: 'db-01', labels: { tier: 'gold' } })).toMatchObject({ priority: 'high', antiAffinityGroup: 'db' });
    expect(r.policies?.vmRules('lab', { name: 'dev-01', labels: {} }).priority).toBe('disabled');
    expect(r.policies?.vmRules('lab', { name: 'web-01', labels: {} }).priority).toBe('medium');
  });

  it('reports every problem in every file, each with FILE:LINE:COL', () => {
    const r = load({
      'a.yaml': 'kind: VmPolicy\nname: x\nmatch: {names: ["db-*"]}\nrestart:\n  priorty: high\n',
      'b.yaml': 'kind: ClusterPolicy\novercommit: {memory: many}\n---\nkind: VmPolicie\nname: y\n',
      'c.yaml': 'kind: VmPolicy\nname: z\nrestart: {priority: urgent}\nplacement: {antiAffinityGroup: ""}\n',
    });
    expect(r.policies).toBeUndefined();
    expect(r.problems.map(formatProblem)).toEqual([
      'a.yaml:5:3: restart: unknown key "priorty" (did you mean "priority"?)',
      'b.yaml:2:22: overcommit.memory: must be a number',
      'b.yaml:4:7: unknown kind "VmPolicie" (did you mean "VmPolicy"?)',
      'c.yaml:3:21: restart.priority: must be one of "highest", "high", "medium", "low", "lowest", "disabled"',
      'c.yaml:4:32: placement.antiAffinityGroup: must not be empty',
    ]);
  });

  it('refuses a VmPolicy name used twice', () => {
    const r = load({ 'a.yaml': 'kind: VmPolicy\nname: x\n', 'b.yaml': 'kind: VmPolicy\nname: x\n' });
    expect(r.problems.map(formatProblem)).toEqual(['b.yaml:2:7: VmPolicy "x" is also defined in a.yaml']);
  });

  it('lets the first matching VmPolicy decide, files in name order', () => {
    const r = load({ '10-specific.yaml': 'kind: VmPolicy\nname: a\nmatch: {names: ["db-01"]}\nrestart: {priority: highest}\n', '20-general.yaml': 'kind: VmPolicy\nname: b\nmatch: {names: ["db-*"]}\nrestart: {priority: low}\n' });
    expect(r.policies?.vmRules('c', { name: 'db-01', labels: {} })).toMatchObject({ policy: 'a', priority: 'highest' });
    expect(r.policies?.vmRules('c', { name: 'db-02', labels: {} })).toMatchObject({ policy: 'b', priority: 'low' });
    expect(r.policies?.matching('c', { name: 'db-01', labels: {} }).map((p) => p.name)).toEqual(['a', 'b']);
  });

  it('applies "*" cluster policies first, then the named cluster, key by key', () => {
    const r = load({ 'p.yaml': 'kind: ClusterPolicy\ncluster: "*"\novercommit: {cpu: 2, memory: 1.2}\n---\nkind: ClusterPolicy\ncluster: prod\novercommit: {cpu: 8}\n' });
    expect(r.policies?.clusterRules('prod').overcommit).toEqual({ cpu: 8, memory: 1.2 });
    expect(r.policies?.clusterRules('dev').overcommit).toEqual({ cpu: 2, memory: 1.2 });
  });

  it('says when the directory is missing', () => {
    const dir = tempDir();
    expect(loadPolicyDir(join(dir, 'none'), dir).problems.map(formatProblem)).toEqual(['none:1:1: policy directory not found']);
  });
});

describe('the commented example policies', () => {
  it('are valid', () => {
    const r = loadPolicyDir(builtinPath('policies', 'examples'));
    expect(r.problems).toEqual([]);
    expect(r.files.length).toBeGreaterThanOrEqual(4);
  });
});
