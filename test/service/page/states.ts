/**
 * Status reports in the states the page must render well, taken from the
 * real controller on the built-in lab (simulated time), then extended with
 * what the lab cannot produce on this branch yet: VMs awaiting a fence,
 * failed fencing and a frozen cluster (fields the controller is gaining in
 * issue 5), a lost datastore, an unknown free space and a hostile VM name.
 */
import { FakeClock } from '../../../src/clock/fake-clock.js';
import { loadConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/log.js';
import { builtinPath } from '../../../src/paths.js';
import { loadConfigPolicies } from '../../../src/policy/resolve.js';
import { assembleController } from '../../../src/service/assemble.js';
import type { ClusterStatus, StatusReport } from '../../../src/service/status.js';
import { SimProvider } from '../../../providers/sim/index.js';

/** A VM name that would run script if it were ever treated as markup. */
export const HOSTILE_VM = '<img src=x onerror="window.__pwned=1">db-07';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface PageStates {
  readonly healthy: StatusReport;
  readonly fenceWait: StatusReport;
  readonly frozen: StatusReport;
  readonly storage: StatusReport;
}

export async function pageStates(): Promise<PageStates> {
  const clock = new FakeClock();
  const config = await loadConfig(builtinPath('examples/builtin.yaml'), true);
  const controller = await assembleController({ config, clock, logger: silentLogger(), policies: loadConfigPolicies(config), purpose: 'oneshot' });
  try {
    const provider = controller.providers.get('lab');
    const labInProcess = provider instanceof SimProvider ? provider.lab : undefined;
    if (!labInProcess) throw new Error('the built-in config should run the in-process lab');
    controller.start();
    await clock.advance(1);
    const healthy = clone(controller.status());

    labInProcess.failHost('esx-03');
    const lab = controller.cluster('lab');
    for (let i = 0; i < 100 && !lab?.status().hosts.some((h) => h.health === 'failed'); i++) await clock.advance(1_000);
    const failed = clone(controller.status());
    return { healthy, fenceWait: fenceWait(clone(failed)), frozen: frozen(failed, healthy), storage: storage(clone(healthy)) };
  } finally {
    await controller.close();
  }
}

/** The failed host's restarts held back until it is proven off, and its fencing failing. */
function fenceWait(report: StatusReport): StatusReport {
  const c = report.clusters[0] as Mutable<ClusterStatus> & Record<string, unknown>;
  // batch-01 stands for a VM that no host can take: unplaced, not waiting.
  const restarts = c.inflight.filter((a) => a.type === 'restart');
  c.inflight = [];
  c.awaitingFence = [
    ...restarts.filter((a) => a.vm !== 'batch-01').map((a) => ({ vm: a.vm, from: a.from, reason: `${a.from} is failed but not proven off: fencing is required before restart (confirm with vigil fence confirm ${a.from})` })),
    { vm: HOSTILE_VM, from: 'esx-03', reason: 'esx-03 is failed but not proven off' },
  ];
  c.fencing = [{ host: 'esx-03', state: 'failed', detail: 'Redfish https://10.0.3.13: connection refused', attempts: 3 }];
  c.unplaced = [{ vm: 'batch-01', vmId: 'batch-01', cluster: c.name, from: 'esx-03', priority: 'low', reason: 'no host with 32 GiB free memory that reaches ds-shared' }];
  c.datastores = c.datastores.map((d) => (d.name === 'local-esx-04' ? { ...d, freeGiB: null } : d));
  return report;
}

/** The mass-failure guard tripped on one cluster; a second cluster is fine but has a datastore lost on one host. */
function frozen(failed: StatusReport, healthy: StatusReport): StatusReport {
  const lab = clone(failed.clusters[0]) as Mutable<ClusterStatus>;
  lab.frozen = true;
  lab.frozenReason = '3 of 4 hosts stopped answering within 40 s: the controller more likely lost its view than the hosts died';
  lab.hosts = lab.hosts.map((h) => (h.name === 'esx-04' ? h : { ...h, state: 'notResponding', health: 'suspect', healthReason: 'not responding (1 of 3 polls)' }));
  lab.inflight = [];
  lab.lastError = 'vCenter API: 503 Service Unavailable (3 tries)';
  const other = clone(healthy.clusters[0]) as Mutable<ClusterStatus>;
  other.name = 'prod-pve';
  other.provider = 'proxmox';
  other.datastores = other.datastores.map((d) => (d.name === 'ds-shared' ? { ...d, inaccessibleOn: ['esx-02'], condition: 'lost-on-some', freeGiB: 410, freePercent: 5, level: 'critical' } : d));
  return { ...failed, clusters: [lab, other] };
}

/** Storage findings the built-in lab does not start with: a shared datastore nearly full and degraded on one host, a replica over its RPO, a VM on local storage. */
function storage(report: StatusReport): StatusReport {
  const c = report.clusters[0] as Mutable<ClusterStatus>;
  c.datastores = c.datastores.map((d) => (d.name === 'ds-shared' ? { ...d, freeGiB: 300, freePercent: 3.7, level: 'critical', degradedOn: ['esx-03'], condition: 'degraded', fullInDays: 1.5 } : d));
  c.vms = c.vms.map((v) =>
    v.name === 'db-01'
      ? { ...v, replication: { target: 'esx-02', lastSync: '2026-01-01T00:00:00.000Z', lagSeconds: 1_500, rpoSeconds: 900, overRpo: true, state: 'error', healthy: false, failures: 3 } }
      : v.name === 'web-04'
        ? { ...v, datastores: ['local-esx-04'], protection: { state: 'unprotected', reason: 'local storage (local-esx-04)' } }
        : v,
  );
  return report;
}

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}
