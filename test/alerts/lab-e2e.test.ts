/**
 * End to end on the built-in lab: the controller assembled as `vigil run`
 * does, alerts wired to its decision log and status, a real HTTP webhook
 * receiver. A host fails; the failover's alerts reach the receiver; the host
 * comes back; its alert resolves.
 */
import { describe, expect, it } from 'vitest';
import { alertsConfigSchema } from '../../src/alerts/config.js';
import { buildLabServer } from '../../providers/sim/lab-server.js';
import { injectTransport } from '../../src/fence/inject-transport.js';
import { startAlerts } from '../../src/alerts/start.js';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { builtinPath } from '../../src/paths.js';
import { loadConfigPolicies } from '../../src/policy/resolve.js';
import { assembleController } from '../../src/service/assemble.js';
import { SimProvider, sharedLab } from '../../providers/sim/index.js';
import { recordingServer } from './helpers.js';

describe('alerts on the built-in lab', () => {
  it('a failed host: host-failed, the failover and its tally reach a webhook; recovery resolves them', async () => {
    const hook = await recordingServer(() => ({ status: 202 }));
    const clock = new FakeClock();
    const config = await loadConfig(builtinPath('examples/builtin.yaml'), true);
    // The built-in lab fences through its own BMCs; in simulated time they are reached in memory.
    const fenceTransport = injectTransport(buildLabServer(sharedLab(builtinPath('examples/lab.yaml'), clock).lab, clock));
    const controller = await assembleController({ config, clock, logger: silentLogger(), policies: loadConfigPolicies(config), purpose: 'oneshot', fenceTransport });
    const provider = controller.providers.get('lab');
    if (!(provider instanceof SimProvider)) throw new Error('the built-in config runs the in-process lab');
    const lab = provider.lab;
    if (!lab) throw new Error('the built-in config runs the in-process lab');
    const alerts = startAlerts({
      decisions: controller.decisions,
      status: () => controller.status(),
      clock,
      logger: silentLogger(),
      config: alertsConfigSchema.parse({ evaluateEvery: '5s', receivers: [{ name: 'ops', type: 'webhook', url: `${hook.url}/alerts`, bearerToken: 'lab-token', kinds: ['host-failed', 'failover', 'restart-failed', 'unplaced', 'awaiting-fence', 'fence-failed', 'fenced', 'frozen'] }] }),
    });
    const got = () => hook.received.map((r) => r.json()).map((b) => `${b.status} ${b.alert.severity} ${b.alert.key}${b.alert.resolution ? ` | ${b.alert.resolution}` : ''}`);

    controller.start();
    await clock.advance(10_000);
    const victims = [...lab.runningVms()].filter(([, h]) => h === 'esx-03').map(([v]) => v).sort();
    expect(victims.length).toBeGreaterThan(0);
    lab.failHost('esx-03');
    // Detection (3 polls of 5s), then the restarts and their tasks.
    for (let i = 0; i < 24 && !controller.decisions.recent(200).some((d) => d.kind === 'action-succeeded'); i++) await clock.advance(5_000);
    await clock.advance(30_000);
    await controller.idle();
    await alerts.idle();

    // Vigil fences esx-03 through its BMC: nothing for a person to do, so no awaiting-fence page; the fence itself is reported.
    expect(got()).toEqual([
      'firing critical host-failed/lab/esx-03',
      'firing warning fenced/lab/esx-03',
      'firing warning failover/lab/esx-03',
      `resolved warning failover/lab/esx-03 | ${victims.length} of ${victims.length} VMs restarted`,
    ]);
    const failover = hook.received[3]?.json();
    expect(failover.alert.details.restarted).toEqual(victims);
    expect(hook.received.every((r) => r.headers.authorization === 'Bearer lab-token')).toBe(true);
    // Each VM of esx-03 now runs elsewhere, once.
    const running = lab.runningVms();
    for (const v of victims) expect(running.get(v)).not.toBe('esx-03');
    expect(lab.log().filter((e) => e.violation)).toEqual([]);

    lab.recoverHost('esx-03');
    await clock.advance(10_000);
    await alerts.idle();
    expect(got().slice(4)).toEqual(['resolved critical host-failed/lab/esx-03 | esx-03 responds again', 'resolved warning fenced/lab/esx-03 | esx-03 responds again']);

    await alerts.stop();
    await controller.close();
    expect(alerts.stats()).toEqual([expect.objectContaining({ name: 'ops', sent: 6, failed: 0, dropped: 0 })]);
  });
});
