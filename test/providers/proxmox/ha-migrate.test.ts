/**
 * Migrating a guest Proxmox HA manages: the API answers with an `hamigrate`
 * task that only queues the request for the HA manager and ends at once
 * (qemu-server's migrate_vm for an HA-managed VM). The provider's task must
 * end when the guest has moved, not when the request was queued.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import { silentLogger } from '../../../src/log.js';
import type { Provider, TaskRef, TaskState } from '../../../src/provider.js';
import proxmoxProvider from '../../../providers/proxmox/index.js';
import { waitFor } from '../../helpers/cli.js';
import { GUESTS, startHarness, type Harness } from '../../pve-standin/harness.js';

let h: Harness | undefined;
let provider: Provider | undefined;
afterEach(async () => {
  await provider?.close();
  await h?.close();
  provider = undefined;
  h = undefined;
});

async function setup(): Promise<{ h: Harness; provider: Provider }> {
  // A slow migration, so that the moment between "request queued" and "guest moved" is long enough to look at.
  h = await startHarness({ timings: { migrateMs: 1_500 }, guests: [...GUESTS, { vmid: 105, name: 'ha-off', node: 'pve1', cores: 1, memoryMiB: 1024, disks: ['ceph'], ha: true, running: false }] });
  provider = await proxmoxProvider.create(proxmoxProvider.configSchema.parse(h.entry()), { clock: new SystemClock(), logger: silentLogger(), baseDir: h.dir });
  return { h, provider };
}

const DB = { id: '101', name: 'db-01' };
const PVE3 = { id: 'pve3', name: 'pve3' };

describe('proxmox migrate of an HA-managed guest', () => {
  it('is running while only the request is done, and succeeds once the guest runs on the target', async () => {
    const { h, provider } = await setup();
    const ref: TaskRef = await provider.migrate(DB, PVE3, { live: true });
    const queued = await waitFor('the hamigrate task to end', async () => [...h.pve.tasks.values()].find((t) => t.type === 'hamigrate' && t.ended));
    expect(queued.exitstatus).toBe('OK');
    await waitFor('the HA manager to start the migration', async () => ([...h.pve.tasks.values()].some((t) => t.type === 'qmigrate') ? true : undefined));
    // The request is done, the guest is not moved yet: the task is not over.
    expect(h.pve.tree.find(101)?.node).toBe('pve2');
    expect((await provider.task(ref)).state).toBe('running');

    const end = await waitFor('the migration to end', async () => {
      const st = await provider.task(ref);
      return st.state === 'running' ? undefined : st;
    });
    expect(end).toEqual({ state: 'success' });
    expect(h.pve.tree.find(101)?.node).toBe('pve3');
    expect(h.pve.runtime.get(101)).toMatchObject({ running: true, on: 'pve3' });
  }, 30_000);

  it('fails when Proxmox HA puts the service into its error state', async () => {
    const { h, provider } = await setup();
    const ref = await provider.migrate(DB, PVE3, { live: true });
    (h.pve.ha.get('vm:101') as { crmState: string }).crmState = 'error';
    const end = await waitFor('the task to end', async () => {
      const st: TaskState = await provider.task(ref);
      return st.state === 'running' ? undefined : st;
    });
    expect(end).toMatchObject({ state: 'error', code: 'ha-error', retryable: false });
    expect(end.state === 'error' && end.message).toContain('vm:101');
    expect(h.pve.tree.find(101)?.node).toBe('pve2');
  }, 30_000);

  it('moves a stopped HA-managed guest offline: done once it is on the target, still stopped', async () => {
    const { h, provider } = await setup();
    const ref = await provider.migrate({ id: '105', name: 'ha-off' }, PVE3, { live: false });
    expect(ref.id).toMatch(/^vigil:migrate:/);
    const end = await waitFor('the migration to end', async () => {
      const st = await provider.task(ref);
      return st.state === 'running' ? undefined : st;
    });
    expect(end).toEqual({ state: 'success' });
    expect(h.pve.tree.find(105)?.node).toBe('pve3');
    expect(h.pve.runtime.get(105)?.running).toBe(false);
    expect(h.pve.ha.get('vm:105')).toMatchObject({ node: 'pve3', crmState: 'stopped' });
  }, 30_000);

  it('follows a plain qmigrate task as it is, for a guest outside HA', async () => {
    const { provider } = await setup();
    const ref = await provider.migrate({ id: '102', name: 'cache-01' }, PVE3, { live: true });
    expect(ref.id).toMatch(/^UPID:pve2:[0-9A-F]+:[0-9A-F]+:[0-9A-F]+:qmigrate:102:/);
  }, 30_000);
});
