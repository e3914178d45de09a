import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { builtinPath } from '../../src/paths.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { assembleController } from '../../src/service/assemble.js';
import { buildServiceHttp } from '../../src/service/http.js';
import { createMetrics, type ServiceMetrics } from '../../src/service/metrics.js';
import { SimProvider } from '../../providers/sim/index.js';
import { DecisionLog } from '../../src/decisions.js';
import { report } from '../alerts/status-fixture.js';

describe('metrics', () => {
  it('exposes hosts by state, actions by outcome, failover time and poll durations', async () => {
    const clock = new FakeClock();
    const config = await loadConfig(builtinPath('examples/builtin.yaml'), true);
    const noFence = new PolicySet([{ kind: 'ClusterPolicy', cluster: '*', fencing: 'none' }], []);
    const ref: { current?: ServiceMetrics } = {};
    const controller = await assembleController({ config, clock, logger: silentLogger(), policies: noFence, purpose: 'oneshot', onPoll: (c, p, ms, ok) => ref.current?.observePoll(c, p, ms / 1000, ok) });
    const metrics = createMetrics(() => controller.status(), controller.decisions);
    ref.current = metrics;
    const app = buildServiceHttp(controller, { clock, metrics });
    const lab = (controller.providers.get('lab') as SimProvider).lab;
    controller.start();
    await clock.advance(1_000);
    lab?.failHost('esx-03');
    await clock.advance(120_000);
    const res = await app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/vigil_hosts\{cluster="lab",state="notResponding",health="failed"\} 1/);
    expect(text).toMatch(/vigil_hosts\{cluster="lab",state="connected",health="healthy"\} 3/);
    expect(text).toMatch(/vigil_actions_total\{cluster="lab",action="restart",outcome="success"\} 4/);
    expect(text).toMatch(/vigil_failover_seconds_count\{cluster="lab"\} 4/);
    expect(text).toMatch(/vigil_poll_duration_seconds_count\{cluster="lab",provider="sim",ok="true"\} \d+/);
    expect(text).toMatch(/vigil_cluster_frozen\{cluster="lab"\} 0/);
    expect(text).toMatch(/vigil_vms\{cluster="lab",protection="protected"\} \d+/);
    await controller.close();
    metrics.stop();
  });
});

describe('storage metrics', () => {
  it('exports free and capacity bytes, hosts by access, the forecast and replication lag; unknown figures are absent, not 0', async () => {
    const levels = { warningPercent: 15, criticalPercent: 5, source: 'default' as const };
    const status = () =>
      report({
        name: 'lab',
        provider: 'sim',
        mode: 'enforce',
        frozen: false,
        hosts: [],
        inflight: [],
        unplaced: [],
        awaitingFence: [],
        fencing: [],
        recent: [],
        vms: [
          { name: 'db-01', host: 'a', power: 'on', cpu: 1, memoryGiB: 4, datastores: ['ds-01'], labels: {}, replication: { target: 'b', lastSync: null, lagSeconds: 125, rpoSeconds: 900, overRpo: false, state: 'ok', healthy: true } },
          { name: 'cache-01', host: 'a', power: 'on', cpu: 1, memoryGiB: 4, datastores: ['local-a'], labels: {}, protection: { state: 'unprotected', reason: 'local storage (local-a)' } },
        ],
        datastores: [
          { name: 'ds-01', capacityGiB: 1000, freeGiB: 250, hosts: ['a', 'b', 'c'], accessible: true, inaccessibleOn: ['a'], degradedOn: ['c'], fullInDays: 12.5, levels },
          { name: 'nfs-01', capacityGiB: null, freeGiB: null, hosts: ['a', 'b'], accessible: false, inaccessibleOn: [], degradedOn: [], fullInDays: null, levels },
        ],
      });
    const metrics = createMetrics(status, new DecisionLog());
    const text = await metrics.registry.metrics();
    expect(text).toContain('vigil_datastore_free_bytes{cluster="lab",datastore="ds-01"} 268435456000');
    expect(text).toContain('vigil_datastore_capacity_bytes{cluster="lab",datastore="ds-01"} 1073741824000');
    expect(text).not.toMatch(/vigil_datastore_(free|capacity)_bytes\{cluster="lab",datastore="nfs-01"\}/);
    expect(text).toContain('vigil_datastore_hosts{cluster="lab",datastore="ds-01",access="accessible"} 2');
    expect(text).toContain('vigil_datastore_hosts{cluster="lab",datastore="ds-01",access="lost"} 1');
    expect(text).toContain('vigil_datastore_hosts{cluster="lab",datastore="ds-01",access="degraded"} 1');
    expect(text).toContain('vigil_datastore_hosts{cluster="lab",datastore="nfs-01",access="accessible"} 0');
    expect(text).toContain('vigil_datastore_hosts{cluster="lab",datastore="nfs-01",access="lost"} 2');
    expect(text).toContain('vigil_datastore_full_in_days{cluster="lab",datastore="ds-01"} 12.5');
    expect(text).not.toMatch(/vigil_datastore_full_in_days\{cluster="lab",datastore="nfs-01"\}/);
    expect(text).toContain('vigil_vm_replication_lag_seconds{cluster="lab",vm="db-01",target="b"} 125');
    expect(text).toContain('vigil_vm_replication_rpo_seconds{cluster="lab",vm="db-01"} 900');
    expect(text).toContain('vigil_vms{cluster="lab",protection="unprotected"} 1');
    expect(text).toContain('vigil_vms{cluster="lab",protection="protected"} 1');
    metrics.stop();
  });
});
