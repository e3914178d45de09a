/** The storage part of the `vigil status` table. */
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../src/cli/commands/status-table.js';
import type { ClusterStatus, StatusReport } from '../../src/service/status.js';

const cluster = (over: Partial<ClusterStatus>): ClusterStatus => ({ name: 'lab', provider: 'sim', mode: 'enforce', frozen: false, hosts: [], vms: [], datastores: [], inflight: [], unplaced: [], awaitingFence: [], fencing: [], recent: [], ...over });
const report = (c: ClusterStatus): StatusReport => ({ generatedAt: '2026-01-01T00:00:00.000Z', source: 'service', clusters: [c] });
const levels = { warningPercent: 15, criticalPercent: 5, source: 'default' as const };

describe('vigil status: storage', () => {
  it('shows free space with its level, lost and degraded hosts, the forecast, unprotected VMs and replicas', () => {
    const text = renderStatus(
      report(
        cluster({
          datastores: [
            { name: 'ds-01', capacityGiB: 1000, freeGiB: 40, hosts: ['a', 'b', 'c'], accessible: true, inaccessibleOn: ['a'], degradedOn: ['c'], condition: 'lost-on-some', freePercent: 4, level: 'critical', levels, fullInDays: 2.6, vmCount: 2 },
            { name: 'nfs-01', capacityGiB: null, freeGiB: null, hosts: ['a', 'b'], accessible: true, inaccessibleOn: [], degradedOn: ['b'], condition: 'degraded', freePercent: null, level: 'unknown', levels, fullInDays: null, vmCount: 0 },
          ],
          vms: [
            { name: 'cache-01', host: 'a', power: 'on', cpu: 1, memoryGiB: 4, datastores: ['local-a'], labels: {}, protection: { state: 'unprotected', reason: 'local storage (local-a)' } },
            { name: 'db-01', host: 'a', power: 'on', cpu: 1, memoryGiB: 4, datastores: ['local-a'], labels: {}, replication: { target: 'b', lastSync: '2026-01-01T00:00:00.000Z', lagSeconds: 1_200, rpoSeconds: 900, overRpo: true, state: 'ok', healthy: true } },
          ],
        }),
      ),
    );
    expect(text).toMatch(/ds-01\s+│\s+1000 GiB\s+│\s+40 GiB \(4%, CRITICAL\)\s+│\s+3\s+│\s+lost on a; degraded on c\s+│\s+full in ~3 days/);
    expect(text).toMatch(/nfs-01\s+│\s+unknown\s+│\s+unknown\s+│\s+2\s+│\s+degraded on b\s+│\s+-/);
    expect(text).toContain('Unprotected cache-01 (on a): local storage (local-a)');
    expect(text).toContain('Replica of db-01 on b: last sync 20m ago, RPO 15m  << OVER RPO (ok)');
  });
});
