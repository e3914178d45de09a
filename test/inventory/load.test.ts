import { describe, expect, it } from 'vitest';
import { formatProblem, ProblemsError } from '../../src/config/problems.js';
import { loadInventoryFile, parseInventoryText, snapshotFromInventory } from '../../src/inventory/load.js';
import { builtinPath } from '../../src/paths.js';

function problemsOf(text: string): string[] {
  try {
    const r = parseInventoryText(text, 'inv.yaml');
    return r.warnings.map(formatProblem);
  } catch (e) {
    if (e instanceof ProblemsError) return e.problems.map(formatProblem);
    throw e;
  }
}

describe('inventory files', () => {
  it('loads the built-in lab: one cluster, 4 hosts, about 24 VMs, a shared datastore', () => {
    const { inventory } = loadInventoryFile(builtinPath('examples/lab.yaml'));
    const c = inventory.clusters[0];
    expect(inventory.clusters).toHaveLength(1);
    expect(c?.hosts).toHaveLength(4);
    expect(c?.vms.length).toBeGreaterThanOrEqual(20);
    expect(c?.datastores.some((d) => d.hosts.length === 4)).toBe(true);
  });

  it('applies the documented defaults', () => {
    const r = parseInventoryText('clusters:\n  - name: c\n    hosts: [{name: h, cpu: 4, memoryGiB: 8}]\n    vms: [{name: v, host: h, cpu: 1, memoryGiB: 1}]\n', 'inv.yaml');
    const s = snapshotFromInventory(r.inventory.clusters[0] as never, 'inventory', 0);
    expect(s.hosts[0]).toMatchObject({ state: 'connected', labels: {} });
    expect(s.vms[0]).toMatchObject({ power: 'on', datastores: [] });
  });

  it('points at a VM on an unknown host', () => {
    expect(problemsOf('clusters:\n  - name: c\n    hosts: [{name: h1, cpu: 4, memoryGiB: 8}]\n    vms:\n      - {name: v, host: h2, cpu: 1, memoryGiB: 1}\n')).toEqual([
      'inv.yaml:5:25: unknown host "h2" in cluster "c" (known: h1)',
    ]);
  });

  it('refuses duplicate names and unknown datastores, and warns about unmounted ones', () => {
    const text = [
      'clusters:',
      '  - name: c',
      '    hosts:',
      '      - {name: h1, cpu: 4, memoryGiB: 8}',
      '      - {name: h1, cpu: 4, memoryGiB: 8}',
      '    datastores:',
      '      - {name: d1, hosts: [h1]}',
      '    vms:',
      '      - {name: v, host: h1, cpu: 1, memoryGiB: 1, datastores: [d9]}',
      '',
    ].join('\n');
    expect(problemsOf(text)).toEqual(['inv.yaml:5:16: host "h1" is defined twice (host names are unique in a file)', 'inv.yaml:9:64: unknown datastore "d9" in cluster "c" (known: d1)']);
  });

  it('reports wrong types and unknown states with their positions', () => {
    expect(problemsOf('clusters:\n  - name: c\n    hosts: [{name: h1, cpu: four, memoryGiB: 8, state: broken}]\n')).toEqual([
      'inv.yaml:3:29: clusters[0].hosts[0].cpu: must be a number',
      'inv.yaml:3:56: clusters[0].hosts[0].state: must be one of "connected", "disconnected", "notResponding", "maintenance"',
    ]);
  });
});
