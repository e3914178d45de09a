/**
 * Planned work through the built CLI against the Proxmox test setup (the
 * API stand-in, a real sshd and the stand-in ha-manager): `vigil migrate`,
 * `vigil evacuate` and `vigil evacuate --undo`, each checked on the
 * stand-in's own state (where each guest truly runs, which node folder
 * holds its config, the LRM's mode, its log), not only on what the CLI
 * prints. Proxmox's host maintenance is HA node maintenance
 * (`ha-manager crm-command node-maintenance`, CLI-only), so it needs ssh in
 * the cluster entry; without it the provider says it cannot, and so does
 * the CLI. No controller runs, so the CLI acts itself.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort, vigilProcess } from '../../helpers/cli.js';
import { startHarness, type Harness } from '../../pve-standin/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process, which serves the stand-in the CLI talks to. */
async function vigilAsync(args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const child = vigilProcess(args, { env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Writes vigil.yaml for the harness (token from the environment) and gives a runner for it. */
async function cli(harness: Harness): Promise<(...args: string[]) => Promise<Ran>> {
  const file = join(harness.dir, 'vigil.yaml');
  writeFileSync(
    file,
    stringify({
      controller: { listen: `127.0.0.1:${await freePort()}`, stateDir: './state', execution: { taskPollInterval: '100ms', taskTimeout: '20s' } },
      clusters: [{ ...harness.entry(), tokenSecret: '${env:PVE_TOKEN}' }],
    }),
  );
  const env = { PVE_TOKEN: harness.entry().tokenSecret as string };
  return (...args) => vigilAsync([...args, '--config', file], env);
}

/** Where each guest truly runs, and the node folder that holds its config. */
function where(harness: Harness): Record<number, { on: string | undefined; config: string | undefined }> {
  const out: Record<number, { on: string | undefined; config: string | undefined }> = {};
  for (const [vmid, r] of harness.pve.runtime) out[vmid] = { on: r.running ? r.on : undefined, config: harness.pve.tree.find(vmid)?.node };
  return out;
}

/** No guest was started (planned work only migrates), so none can run twice; the stand-in saw no error. */
function ranOnce(harness: Harness): void {
  expect(harness.pve.errors()).toEqual([]);
  expect(harness.pve.log().filter((e) => e.op === 'start' || e.op === 'ha-recover')).toEqual([]);
  for (const [vmid, r] of harness.pve.runtime) if (r.running) expect(harness.pve.tree.find(vmid)?.node, `guest ${vmid}`).toBe(r.on);
}

describe('vigil migrate and evacuate on the Proxmox test setup', () => {
  it('--dry-run changes nothing; an unknown guest gives exit 1 and a clear message; a failed migration holds the maintenance', async () => {
    h = await startHarness({ sshd: true });
    const run = await cli(h);
    const before = where(h);

    const m = await run('migrate', 'web-01', '--to', 'pve3', '--dry-run', '--json');
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).plans[0].phases).toEqual([[expect.objectContaining({ type: 'migrate', vm: 'web-01', from: 'pve1', to: 'pve3', live: true })]]);
    const e = await run('evacuate', 'pve1', '--dry-run');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain('Dry run: nothing changed.');
    expect(e.stdout).toContain('enter maintenance');

    const u = await run('migrate', 'no-such-vm', '--to', 'pve3', '--yes');
    expect(u.code).toBe(1);
    expect(u.stderr).toContain('unknown VM "no-such-vm"');

    h.pve.tick();
    expect(where(h)).toEqual(before);
    expect(h.pve.log()).toEqual([]);
    expect([...h.pve.nodes.values()].map((n) => n.lrmMode)).toEqual(['active', 'active', 'active']);

    // A migration Proxmox fails: the CLI says why, and the node does not enter maintenance.
    h.pve.failNextTask(100, 'migration problems');
    const f = await run('evacuate', 'pve1', '--yes');
    expect(f.code, `${f.stdout}\n${f.stderr}`).toBe(1);
    expect(f.stdout).toContain('migration problems');
    expect(f.stdout).toMatch(/not.started\s+enter maintenance on pve1/);
    expect(where(h)).toEqual(before);
    expect(h.pve.log().map((x) => x.op)).toEqual(['migrate-failed']);
    expect(h.pve.node('pve1').lrmMode).toBe('active');
    ranOnce(h);
  }, 60_000);

  it('migrate, evacuate and evacuate --undo act on Proxmox: guests move, the node enters and leaves HA maintenance', async () => {
    h = await startHarness({ sshd: true });
    const pve = h.pve;
    const run = await cli(h);

    // One live migration.
    const m = await run('migrate', 'web-01', '--to', 'pve3', '--yes', '--json');
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).results[0]).toMatchObject({ succeeded: 1, failed: 0, notStarted: 0 });
    expect(where(h)[100]).toEqual({ on: 'pve3', config: 'pve3' });
    expect(pve.log().filter((x) => x.op === 'migrate')).toEqual([expect.objectContaining({ vmid: 100, node: 'pve1', to: 'pve3' })]);
    expect(m.stdout).not.toContain(h.entry().tokenSecret as string);

    // pve3 now runs web-01 (a VM) and dns-01 (a container): both leave, then the node enters maintenance.
    const e = await run('evacuate', 'pve3', '--yes');
    expect(e.code, `${e.stdout}\n${e.stderr}`).toBe(0);
    expect(e.stdout).toContain('enter maintenance on pve3');
    // The plan does not call the container's move live: Proxmox stops and starts it.
    expect(e.stdout).toContain('1 live migration and 1 restart migration (a short outage each)');
    expect(e.stdout).toMatch(/restart-migrate[^\n]*dns-01/);
    const after = where(h);
    expect(after[100]?.on).not.toBe('pve3');
    expect(after[200]?.on).not.toBe('pve3');
    expect(after[100]?.on).toBeDefined();
    expect(after[200]?.on).toBeDefined();
    expect(pve.node('pve3').lrmMode).toBe('maintenance');
    expect(pve.haNodeStatus('pve3')).toBe('maintenance');
    expect(pve.log().filter((x) => x.op === 'migrate').map((x) => x.vmid).sort()).toEqual([100, 100, 200]);
    ranOnce(h);

    // A node in maintenance is refused as a target and cannot be evacuated again.
    const onto = await run('migrate', 'cache-01', '--to', 'pve3', '--yes');
    expect(onto.code).toBe(1);
    expect(onto.stderr).toMatch(/maintenance/);
    const again = await run('evacuate', 'pve3', '--yes');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/maintenance/);

    const undo = await run('evacuate', 'pve3', '--undo', '--yes', '--json');
    expect(undo.code, undo.stderr).toBe(0);
    expect(JSON.parse(undo.stdout).results[0]).toMatchObject({ succeeded: 1, failed: 0 });
    expect(pve.node('pve3').lrmMode).toBe('active');
    // Its guests are not moved back.
    expect(where(h)).toEqual(after);
    ranOnce(h);
  }, 60_000);

  it('migrating an HA-managed guest ends when Proxmox HA has moved it, not when the request is queued', async () => {
    h = await startHarness({ sshd: true });
    const run = await cli(h);
    // db-01 is managed by Proxmox HA: the API answers with an hamigrate task that only queues the request.
    const m = await run('migrate', 'db-01', '--to', 'pve3', '--yes', '--json');
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).results[0]).toMatchObject({ succeeded: 1, failed: 0 });
    expect(h.pve.tasks.size).toBeGreaterThan(0);
    expect([...h.pve.tasks.values()].map((t) => t.type).sort()).toEqual(['hamigrate', 'qmigrate']);
    expect(where(h)[101]).toEqual({ on: 'pve3', config: 'pve3' });
    expect(h.pve.ha.get('vm:101')).toMatchObject({ node: 'pve3', crmState: 'started' });
    ranOnce(h);
  }, 60_000);

  it('an evacuation with a guest that cannot move does not start; once it is off, the evacuation runs', async () => {
    h = await startHarness({ sshd: true });
    const run = await cli(h);
    const before = where(h);
    // pve2 runs legacy-01, whose disk is on node-local storage.
    const e = await run('evacuate', 'pve2', '--yes', '--json');
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('1 VM cannot move off pve2, so nothing will move');
    expect(JSON.parse(e.stdout).plans[0].blocked).toEqual([expect.objectContaining({ vm: 'legacy-01', host: 'pve2', reason: expect.stringContaining('local-lvm') })]);
    h.pve.tick();
    expect(where(h)).toEqual(before);
    expect(h.pve.log()).toEqual([]);
    expect(h.pve.node('pve2').lrmMode).toBe('active');

    // Once legacy-01 is shut down (by its owner), the evacuation runs: db-01 through Proxmox HA, cache-01 directly.
    h.pve.runtime.set(104, { running: false, reported: 'stopped' });
    const ok = await run('evacuate', 'pve2', '--yes');
    expect(ok.code, `${ok.stdout}\n${ok.stderr}`).toBe(0);
    expect(ok.stdout).toContain('legacy-01 (off)');
    const after = where(h);
    expect(after[101]?.on).toMatch(/^pve[13]$/);
    expect(after[102]?.on).toMatch(/^pve[13]$/);
    expect(after[104]).toEqual({ on: undefined, config: 'pve2' });
    expect(h.pve.node('pve2').lrmMode).toBe('maintenance');
    expect([...h.pve.tasks.values()].filter((t) => t.type === 'hamigrate').map((t) => t.id)).toEqual(['101']);
    ranOnce(h);
  }, 60_000);

  it('without ssh the provider cannot set maintenance, and the CLI says so; migrate still works', async () => {
    h = await startHarness();
    const run = await cli(h);
    const before = where(h);
    const e = await run('evacuate', 'pve1', '--yes');
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('cannot put hosts into maintenance');
    // A node someone put into maintenance by hand: Vigil sees it, and says it cannot take it out.
    h.pve.node('pve1').lrmMode = 'maintenance';
    h.pve.tick();
    const undo = await run('evacuate', 'pve1', '--undo', '--yes');
    expect(undo.code).toBe(1);
    expect(undo.stderr).toContain('the proxmox provider cannot change maintenance mode');
    expect(h.pve.node('pve1').lrmMode).toBe('maintenance');
    expect(where(h)).toEqual(before);
    expect(h.pve.log()).toEqual([]);

    const m = await run('migrate', 'cache-01', '--to', 'pve3', '--yes');
    expect(m.code, m.stderr).toBe(0);
    expect(where(h)[102]).toEqual({ on: 'pve3', config: 'pve3' });
    // A stopped guest moves offline and stays stopped.
    const cold = await run('migrate', 'build-01', '--to', 'pve3', '--yes', '--json');
    expect(cold.code, cold.stderr).toBe(0);
    expect(JSON.parse(cold.stdout).plans[0].phases[0][0]).toMatchObject({ vm: 'build-01', live: false });
    expect(where(h)[103]).toEqual({ on: undefined, config: 'pve3' });
    ranOnce(h);
  }, 60_000);
});
