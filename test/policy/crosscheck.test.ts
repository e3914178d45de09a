import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/config/problems.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import { crossCheckPolicies } from '../../src/policy/crosscheck.js';
import { parseInventoryText, snapshotFromInventory } from '../../src/inventory/load.js';
import { tempDir } from '../helpers/tmp.js';

const inventory = parseInventoryText(
  `clusters:
  - name: prod
    hosts:
      - {name: esx-01, cpu: 8, memoryGiB: 64, labels: {rack: r1}}
      - {name: esx-02, cpu: 8, memoryGiB: 64, labels: {rack: r2}}
    vms:
      - {name: db-01, host: esx-01, cpu: 1, memoryGiB: 1, labels: {tier: gold}}
      - {name: db-02, host: esx-02, cpu: 1, memoryGiB: 1, labels: {tier: gold}}
      - {name: web-01, host: esx-02, cpu: 1, memoryGiB: 1}
`,
  'inv.yaml',
).inventory;
const snapshots = inventory.clusters.map((c) => snapshotFromInventory(c, 'inventory', 0));

function check(files: Record<string, string>, withInventory = true) {
  const dir = tempDir(files);
  const r = loadPolicyDir(dir, dir);
  if (!r.policies) return r.problems.map(formatProblem);
  return crossCheckPolicies({ sources: r.sources, policies: r.policies, clusterNames: ['prod'], ...(withInventory ? { snapshots } : {}) }).map(formatProblem);
}

describe('policy cross-checks', () => {
  it('warns, with positions, about names that match nothing', () => {
    expect(
      check({
        'p.yaml': [
          'kind: VmPolicy',
          'name: x',
          'cluster: staging',
          'match: {names: ["dbb-*"], labels: {tier: platinum}}',
          'placement: {requireHostLabels: {rack: r9}, avoidHosts: ["esx-9*"], antiAffinityGroup: lonely}',
          '',
        ].join('\n'),
      }),
    ).toEqual([
      'p.yaml:3:10: warning: cluster "staging" does not exist (known: prod)',
      'p.yaml:5:87: warning: group "lonely" has fewer than two VMs; it has no effect',
    ]);
    expect(check({ 'p.yaml': 'kind: VmPolicy\nname: x\nmatch: {names: ["dbb-*"], labels: {tier: platinum}}\nplacement: {requireHostLabels: {rack: r9}, avoidHosts: ["esx-9*"]}\n' })).toEqual([
      'p.yaml:3:17: warning: no VM matches "dbb-*"',
      'p.yaml:3:42: warning: no VM has label tier=platinum',
      'p.yaml:4:39: warning: no host has label rack=r9',
      'p.yaml:4:57: warning: no host matches "esx-9*"',
    ]);
  });

  it('reports VMs matched by two VmPolicies, and which one decides', () => {
    expect(check({ 'a.yaml': 'kind: VmPolicy\nname: gold\nmatch: {labels: {tier: gold}}\n', 'b.yaml': 'kind: VmPolicy\nname: all-db\nmatch: {names: ["db-*"]}\n' })).toEqual([
      'b.yaml:2:7: warning: VmPolicy "all-db" also matches 2 VM(s) that "gold" decides (the first match wins): db-01, db-02',
    ]);
  });

  it('refuses after: on a policy that does not exist, and warns about waits that cannot end well', () => {
    expect(check({ 'p.yaml': 'kind: VmPolicy\nname: app\nrestart: {after: ["policy:dbs"]}\n' }, false)).toEqual(['p.yaml:3:19: after: no VmPolicy named "dbs"']);
    expect(
      check(
        {
          'p.yaml': 'kind: VmPolicy\nname: a\nmatch: {names: [web-01]}\nrestart: {priority: high, after: ["policy:b"]}\n---\nkind: VmPolicy\nname: b\nmatch: {names: [db-01]}\nrestart: {priority: low, after: ["policy:a"]}\n',
        },
        false,
      ),
    ).toEqual([
      'p.yaml:4:35: warning: after: VMs of "b" restart in a later wave (priority low), so these wait for the timeout',
      'p.yaml:4:34: warning: after: policies wait for each other (a -> b -> a); each waits for its timeout',
    ]);
  });
});
