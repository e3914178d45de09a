/**
 * A node goes offline: guests outside Proxmox HA are recovered in `direct`
 * mode end to end (config moved by a real sshd in the stand-in's /etc/pve
 * tree, then started through the API), HA guests are left to the stand-in's
 * HA manager and their recovery is reported, and every refusal the
 * platform's preconditions call for is a coded error. Also: maintenance,
 * container migration, failed tasks, and SSH host-key checking.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import { ErrorCodes, VigilError } from '../../../src/errors.js';
import { silentLogger, type Logger } from '../../../src/log.js';
import type { TaskRef, TaskState } from '../../../src/provider.js';
import proxmoxProvider from '../../../providers/proxmox/index.js';
import type { ProxmoxProvider } from '../../../providers/proxmox/provider.js';
import { startHarness, type Harness } from '../../pve-standin/harness.js';

let h: Harness | undefined;
let p: ProxmoxProvider | undefined;
afterEach(async () => {
  await p?.close();
  await h?.close();
  p = undefined;
  h = undefined;
});

async function setup(extra: Record<string, unknown> = {}, logger: Logger = silentLogger()): Promise<{ h: Harness; p: ProxmoxProvider }> {
  h = await startHarness({ sshd: true });
  p = (await proxmoxProvider.create(proxmoxProvider.configSchema.parse(h.entry(extra)), { clock: new SystemClock(), logger, baseDir: h.dir })) as ProxmoxProvider;
  return { h, p };
}

async function follow(provider: ProxmoxProvider, ref: TaskRef, limitMs = 10_000): Promise<TaskState> {
  const end = Date.now() + limitMs;
  for (;;) {
    const s = await provider.task(ref);
    if (s.state === 'success' || s.state === 'error' || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, limitMs = 10_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function refusal(x: Promise<unknown>): Promise<VigilError> {
  const e = await x.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VigilError);
  return e as VigilError;
}

const vm = (id: string, name: string) => ({ id, name });
const host = (name: string) => ({ id: name, name });

function capture(): { logger: Logger; text: () => string } {
  let out = '';
  const sink = new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) });
  return { logger: pino({ level: 'info' }, sink), text: () => out };
}

describe('proxmox direct recovery (stand-in + real sshd)', () => {
  it('recovers the guests of a failed node: config moved over SSH, started through the API, nothing twice', async () => {
    const log = capture();
    const { h, p } = await setup({}, log.logger);
    expect((await p.snapshot()).hosts.find((x) => x.name === 'pve2')?.state).toBe('connected');
    h.pve.failNode('pve2');

    const s = await p.snapshot();
    expect(s.hosts.find((x) => x.name === 'pve2')?.state).toBe('notResponding');
    // The last state the manager reported, not a guess: cache-01 was running when pve2 was last seen.
    expect(s.vms.find((v) => v.name === 'cache-01')).toMatchObject({ host: 'pve2', power: 'on' });
    expect(s.vms.find((v) => v.name === 'db-01')?.managedBy).toBe('pve-ha');
    expect(s.vms.find((v) => v.name === 'cache-01')?.managedBy).toBeUndefined();

    const ref = await p.restart(vm('102', 'cache-01'), host('pve3'));
    expect(ref.id).toMatch(/^UPID:pve3:.*:qmstart:102:/);
    expect(await follow(p, ref)).toEqual({ state: 'success' });
    expect(existsSync(h.pve.tree.path('pve3', 'qemu', 102))).toBe(true);
    expect(existsSync(h.pve.tree.path('pve2', 'qemu', 102))).toBe(false);
    expect((await p.snapshot()).vms.find((v) => v.name === 'cache-01')).toMatchObject({ host: 'pve3', power: 'on' });

    // Asked again (a retry after a lost answer): nothing is started a second time.
    expect(await follow(p, await p.restart(vm('102', 'cache-01'), host('pve3')))).toEqual({ state: 'success' });
    expect(h.pve.log().filter((e) => e.op === 'start' && e.vmid === 102)).toHaveLength(1);

    // Local disks cannot start elsewhere; HA guests are Proxmox HA's.
    const local = await refusal(p.restart(vm('104', 'legacy-01'), host('pve3')));
    expect(local).toMatchObject({ code: ErrorCodes.PROVIDER_REFUSED, expected: true, retryable: false });
    expect(local.details.reason).toBe('local-disks');
    expect(existsSync(h.pve.tree.path('pve2', 'qemu', 104))).toBe(true);
    expect((await refusal(p.restart(vm('101', 'db-01'), host('pve3')))).details.reason).toBe('ha-managed');

    // Meanwhile Proxmox HA fences pve2 and recovers db-01; Vigil reports it and can now vouch that pve2 is down.
    await until('HA recovery of db-01', async () => {
      const v = (await p.snapshot()).vms.find((x) => x.name === 'db-01');
      return v && v.host !== 'pve2' && v.power === 'on' ? v : undefined;
    });
    expect(log.text()).toMatch(/Proxmox HA recovered vm:101 \(db-01\) from pve2 on pve\d in \d/);
    expect(await p.hostDownProof(host('pve2'))).toMatchObject({ proven: true });
    expect(h.pve.errors()).toEqual([]);
  });

  it('reports storage replication, and restarts a guest with local disks from its replica on the replication target', async () => {
    const log = capture();
    h = await startHarness({ sshd: true });
    const lastSync = Math.floor(Date.now() / 1000) - 120;
    h.pve.replication.push({ guest: 104, target: 'pve3', lastSync }, { guest: 102, target: 'pve1', failCount: 3, error: 'no space left on device' });
    p = (await proxmoxProvider.create(proxmoxProvider.configSchema.parse(h.entry()), { clock: new SystemClock(), logger: log.logger, baseDir: h.dir })) as ProxmoxProvider;
    const s = await p.snapshot();
    expect(s.vms.find((v) => v.name === 'legacy-01')?.replication).toEqual({ target: 'pve3', lastSyncAt: lastSync * 1000, state: 'ok', healthy: true, failures: 0, lastDurationSeconds: 2.5 });
    expect(s.vms.find((v) => v.name === 'cache-01')?.replication).toMatchObject({ target: 'pve1', lastSyncAt: null, healthy: false, state: 'error: no space left on device', failures: 3 });
    h.pve.failNode('pve2');
    expect((await refusal(p.restart(vm('104', 'legacy-01'), host('pve1')))).details.reason).toBe('local-disks');
    expect(await follow(p, await p.restart(vm('104', 'legacy-01'), host('pve3')))).toEqual({ state: 'success' });
    expect(log.text()).toContain('changes since the last replication are lost');
    expect(h.pve.errors()).toEqual([]);
  });

  it('a repeat while the start task still runs follows that task', async () => {
    const { h, p } = await setup();
    h.pve.failNode('pve2');
    const first = await p.restart(vm('102', 'cache-01'), host('pve1'));
    const second = await p.restart(vm('102', 'cache-01'), host('pve1'));
    expect(second.id).toBe(first.id);
    expect(await follow(p, second)).toEqual({ state: 'success' });
    expect([...h.pve.tasks.values()].filter((t) => t.type === 'qmstart' && t.id === '102')).toHaveLength(1);
    expect(h.pve.errors()).toEqual([]);
  });

  it('refuses while the node is online, or the cluster is not quorate, and moves nothing', async () => {
    const { h, p } = await setup();
    const online = await refusal(p.restart(vm('102', 'cache-01'), host('pve3')));
    expect(online.details.reason).toBe('node-online');
    expect(online.retryable).toBe(true);
    h.pve.failNode('pve2');
    h.pve.failNode('pve3');
    const quorum = await refusal(p.restart(vm('102', 'cache-01'), host('pve1')));
    expect(quorum.details.reason).toBe('not-quorate');
    expect(existsSync(h.pve.tree.path('pve2', 'qemu', 102))).toBe(true);
    // The snapshot refuses a non-quorate view outright: every other node "offline" is not evidence.
    expect((await refusal(p.snapshot())).details.reason).toBe('not-quorate');
  });

  it('refuses a config that carries a lock from an operation cut short on the dead node', async () => {
    const { h, p } = await setup();
    const g = h.pve.tree.find(102);
    if (g) h.pve.tree.setLock(g, 'backup');
    h.pve.failNode('pve2');
    const e = await refusal(p.restart(vm('102', 'cache-01'), host('pve3')));
    expect(e.details).toMatchObject({ reason: 'locked', lock: 'backup' });
    expect(e.message).toContain('qm/pct unlock 102');
    expect(existsSync(h.pve.tree.path('pve2', 'qemu', 102))).toBe(true);
  });

  it('in native mode leaves guests outside Proxmox HA alone', async () => {
    const { h, p } = await setup({ recovery: 'native' });
    expect(p.capabilities.restartElsewhere).toBe(false);
    h.pve.failNode('pve2');
    expect((await refusal(p.restart(vm('102', 'cache-01'), host('pve3')))).details.reason).toBe('native-mode');
  });

  it('cannot vouch for a node without HA resources: no watchdog is armed there', async () => {
    const { h, p } = await setup();
    h.pve.failNode('pve3');
    const proof = await p.hostDownProof(host('pve3'));
    expect(proof.proven).toBe(false);
    expect(proof.evidence).toMatch(/offline in the quorate cluster.*no watchdog/);
    expect((await p.hostDownProof(host('pve1'))).proven).toBe(false);
  });

  it('never accepts an unknown SSH host key', async () => {
    const { h, p: _unused } = await setup();
    const bad = join(h.dir, 'other_known_hosts');
    writeFileSync(bad, `[127.0.0.1]:${h.sshd?.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMfy4t8NKPS9VHW1VjjIeKAEDhn+/bGx/ocsZwjwCpxZ\n`);
    const entry = h.entry();
    const strict = await proxmoxProvider.create(proxmoxProvider.configSchema.parse({ ...entry, ssh: { ...(entry.ssh as object), knownHostsFile: bad } }), { clock: new SystemClock(), logger: silentLogger(), baseDir: h.dir });
    try {
      h.pve.failNode('pve2');
      const e = await refusal(strict.restart(vm('102', 'cache-01'), host('pve3')));
      expect(e.details.reason).toBe('ssh-host-key');
      expect(existsSync(h.pve.tree.path('pve2', 'qemu', 102))).toBe(true);
      // A pinned fingerprint is accepted instead.
      const pinned = await proxmoxProvider.create(
        proxmoxProvider.configSchema.parse({ ...entry, ssh: { ...(entry.ssh as object), knownHostsFile: undefined, hostKeyFingerprints: [h.sshd?.hostKeyFingerprint] } }),
        { clock: new SystemClock(), logger: silentLogger(), baseDir: h.dir },
      );
      expect(await follow(pinned as ProxmoxProvider, await pinned.restart(vm('102', 'cache-01'), host('pve3')))).toEqual({ state: 'success' });
      await pinned.close();
    } finally {
      await strict.close();
    }
  });
});

describe('proxmox operations on the stand-in', () => {
  it('puts an HA node into Proxmox maintenance and reports the guests HA did not move', async () => {
    const { h, p } = await setup();
    const s = await follow(p, await p.setMaintenance(host('pve2'), true));
    expect(s.state).toBe('error');
    expect(s.state === 'error' && s.message).toMatch(/pve2 is in Proxmox maintenance, but these guests still run on it: 102 \(cache-01\), 104 \(legacy-01\)/);
    const snap = await p.snapshot();
    expect(snap.hosts.find((x) => x.name === 'pve2')?.state).toBe('maintenance');
    expect(snap.vms.find((v) => v.name === 'db-01')?.host).not.toBe('pve2');
    expect(await follow(p, await p.setMaintenance(host('pve2'), false))).toEqual({ state: 'success' });
    expect((await p.snapshot()).hosts.find((x) => x.name === 'pve2')?.state).toBe('connected');
    expect(h.pve.errors()).toEqual([]);
  });

  it('moves a container by restart migration', async () => {
    const { h, p } = await setup();
    const ref = await p.migrate(vm('200', 'dns-01'), host('pve1'), { live: true });
    expect(ref.id).toMatch(/:vzmigrate:200:/);
    expect(await follow(p, ref)).toEqual({ state: 'success' });
    expect((await p.snapshot()).vms.find((v) => v.id === '200')?.host).toBe('pve1');
    expect(h.pve.errors()).toEqual([]);
  });

  it('a failed migration ends in error with its exit status and log', async () => {
    const { h, p } = await setup();
    h.pve.failNextTask(100, 'migration aborted: rbd: connection timed out');
    const s = await follow(p, await p.migrate(vm('100', 'web-01'), host('pve3'), { live: true }));
    expect(s.state).toBe('error');
    expect(s.state === 'error' && s.message).toContain('migration aborted: rbd: connection timed out');
    expect(s.state === 'error' && s.message).toContain("starting migration of VM 100 to node 'pve3'");
    expect((await p.snapshot()).vms.find((v) => v.id === '100')?.host).toBe('pve1');
  });

  it('refuses a live migration the pre-flight forbids (local disks)', async () => {
    const { p } = await setup();
    const e = await refusal(p.migrate(vm('104', 'legacy-01'), host('pve1'), { live: true }));
    expect(e.message).toContain('local-lvm:vm-104-disk-0');
  });

  it('reports storage the stand-in deactivates on one node, and re-reads per-node storage only then', async () => {
    const { h, p } = await setup();
    await p.snapshot();
    const before = h.pve.requests.length;
    await p.snapshot();
    expect(h.pve.requests.length - before).toBe(3);
    h.pve.setStorage('ceph', 'pve3', { active: false });
    const before2 = h.pve.requests.length;
    const s = await p.snapshot();
    expect(h.pve.requests.slice(before2)).toContain('GET /api2/json/nodes/pve3/storage');
    expect(h.pve.requests.length - before2).toBe(4);
    expect(s.datastores.find((d) => d.name === 'ceph')).toMatchObject({ hosts: ['pve1', 'pve2', 'pve3'], inaccessibleOn: ['pve3'], accessible: true });
    expect(s.vms.find((v) => v.name === 'web-01')?.datastores).toEqual(['ceph']);
    expect(s.vms.find((v) => v.name === 'legacy-01')?.datastores).toEqual(['local-lvm@pve2']);
  });
});
