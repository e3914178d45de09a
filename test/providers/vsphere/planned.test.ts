/**
 * Planned work through the built CLI against vcsim (Vigil's harness):
 * `vigil migrate`, `vigil evacuate` and `vigil evacuate --undo`, each
 * checked on vcsim's own state (where each VM runs, the hosts'
 * inMaintenanceMode, the SOAP calls it received), not only on what the
 * CLI prints. No controller runs, so the CLI acts itself.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVcsim, type Vcsim, type VcsimState } from '../../../bench/vsphere/vcsim.js';
import { freePort, vigil, vigilProcess, waitFor, type CliResult } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

describe('vigil migrate and evacuate on vSphere (vcsim)', () => {
  let sim: Vcsim;
  let dir: string;
  let run: (...args: string[]) => CliResult;
  let apiPort: number;

  beforeAll(async () => {
    sim = await startVcsim({ hosts: 3, vms: 6, tls: true });
    dir = tempDir();
    apiPort = await freePort();
    writeFileSync(
      join(dir, 'vigil.yaml'),
      [
        'controller:',
        `  listen: 127.0.0.1:${apiPort}`,
        '  stateDir: ./state',
        '  execution: {taskPollInterval: 100ms, taskTimeout: 20s}',
        'clusters:',
        '  - name: vc',
        '    provider: vsphere',
        `    url: ${sim.url}`,
        `    username: ${sim.user}`,
        '    password: ${env:VCSIM_PASSWORD}',
        `    caFile: ${sim.caFile ?? ''}`,
        '    datacenter: DC0',
        '    cluster: DC0_C0',
        '',
      ].join('\n'),
    );
    run = (...args) => vigil([...args, '--config', join(dir, 'vigil.yaml')], { cwd: dir, env: { VCSIM_PASSWORD: sim.password }, timeoutMs: 40_000 });
  }, 60_000);
  afterAll(async () => {
    await sim?.stop();
  });

  const hostOf = (st: VcsimState, vm: string) => st.vms.find((v) => v.name === vm)?.host;
  const maintenance = (st: VcsimState, host: string) => st.hosts.find((h) => h.name === host)?.maintenance;
  /** Every VM is in vcsim's inventory once, runs at most once, and nothing was started twice. */
  const ranOnce = (st: VcsimState) => {
    const names = st.vms.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    expect(st.errors).toEqual([]);
    expect(st.log.filter((e) => e.op === 'start')).toEqual([]);
  };

  it('--dry-run shows the plan and changes nothing', async () => {
    const before = await sim.state();
    const vm = before.vms[0]!;
    const to = before.hosts.find((h) => h.name !== vm.host)!.name;
    await sim.calls(true);
    const m = run('migrate', vm.name, '--to', to, '--dry-run', '--json');
    expect(m.code, m.stderr).toBe(0);
    const out = JSON.parse(m.stdout);
    expect(out.dryRun).toBe(true);
    expect(out.plans[0].phases).toEqual([[expect.objectContaining({ type: 'migrate', vm: vm.name, from: vm.host, to, live: true })]]);
    const e = run('evacuate', vm.host, '--dry-run');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain('Dry run: nothing changed.');
    expect(e.stdout).toContain('enter maintenance');

    const after = await sim.state();
    expect(after.vms.map((v) => [v.name, v.host, v.powerState])).toEqual(before.vms.map((v) => [v.name, v.host, v.powerState]));
    expect(after.hosts.map((h) => h.maintenance)).toEqual(before.hosts.map((h) => h.maintenance));
    const calls = await sim.calls();
    for (const method of ['RelocateVM_Task', 'MigrateVM_Task', 'EnterMaintenanceMode_Task', 'ExitMaintenanceMode_Task', 'PowerOffVM_Task', 'PowerOnVM_Task']) expect(calls[method] ?? 0, method).toBe(0);
  }, 60_000);

  it('an unknown VM or host, or the host it is on, gives exit 1, a clear message, and no call that changes anything', async () => {
    await sim.calls(true);
    const r = run('migrate', 'no-such-vm', '--to', 'DC0_C0_H1', '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown VM "no-such-vm"');
    const host = run('migrate', 'DC0_C0_RP0_VM1', '--to', 'no-such-host', '--yes');
    expect(host.code).toBe(1);
    expect(host.stderr).toContain('no host "no-such-host" in cluster vc');
    const e = run('evacuate', 'no-such-host', '--yes');
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('unknown host "no-such-host"');
    const st = await sim.state();
    const vm = st.vms[1]!;
    const same = run('migrate', vm.name, '--to', vm.host, '--yes');
    expect(same.code).toBe(1);
    expect(same.stderr).toContain(`cannot migrate ${vm.name} to ${vm.host}: it already runs there`);
    const calls = await sim.calls();
    expect(calls.RelocateVM_Task ?? 0).toBe(0);
  }, 60_000);

  it('migrate --yes --json moves the VM: vcsim shows it on the new host, still powered on', async () => {
    const before = await sim.state();
    const vm = before.vms[0]!;
    const to = before.hosts.find((h) => h.name !== vm.host)!.name;
    await sim.calls(true);
    const r = run('migrate', vm.name, '--to', to, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.results[0]).toMatchObject({ succeeded: 1, failed: 0, notStarted: 0 });
    expect(r.stdout).not.toContain(sim.password);

    const after = await sim.state();
    expect(hostOf(after, vm.name)).toBe(to);
    expect(after.vms.find((v) => v.name === vm.name)).toMatchObject({ powerState: 'poweredOn', reallyRunning: true });
    // The other VMs stayed where they were.
    expect(after.vms.filter((v) => v.name !== vm.name).map((v) => [v.name, v.host])).toEqual(before.vms.filter((v) => v.name !== vm.name).map((v) => [v.name, v.host]));
    expect((await sim.calls()).RelocateVM_Task).toBe(1);
    ranOnce(after);
  }, 60_000);

  it('evacuate --yes moves every running VM off and puts the host in maintenance; --undo takes it out', async () => {
    const start = await sim.state();
    // The host with the most VMs now; one of its VMs is off (it stays registered there).
    const host = [...start.hosts].sort((a, b) => start.vms.filter((v) => v.host === b.name).length - start.vms.filter((v) => v.host === a.name).length)[0]!.name;
    const off = start.vms.find((v) => v.host === host)!.name;
    await sim.control('/vms/set', { name: off, power: 'poweredOff' });
    const before = await sim.state();
    const leaving = before.vms.filter((v) => v.host === host && v.powerState === 'poweredOn').map((v) => v.name);
    expect(leaving.length).toBeGreaterThan(0);
    await sim.calls(true);

    const r = run('evacuate', host, '--yes');
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`enter maintenance on ${host}`);
    const mid = await sim.state();
    expect(maintenance(mid, host)).toBe(true);
    for (const name of leaving) {
      expect(hostOf(mid, name), name).not.toBe(host);
      expect(mid.vms.find((v) => v.name === name)).toMatchObject({ powerState: 'poweredOn', reallyRunning: true });
    }
    expect(mid.vms.filter((v) => v.host === host && v.powerState === 'poweredOn')).toEqual([]);
    expect(mid.vms.find((v) => v.name === off)).toMatchObject({ host, powerState: 'poweredOff' });
    const calls = await sim.calls(true);
    expect(calls.RelocateVM_Task).toBe(leaving.length);
    expect(calls.EnterMaintenanceMode_Task).toBe(1);
    ranOnce(mid);

    // Evacuating it again is refused: it is in maintenance already; and no planned move lands on it.
    const again = run('evacuate', host, '--yes');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/maintenance/);
    const onto = run('migrate', leaving[0]!, '--to', host, '--yes');
    expect(onto.code).toBe(1);
    expect(onto.stderr).toMatch(/maintenance/);
    expect((await sim.calls()).RelocateVM_Task ?? 0).toBe(0);

    const undo = run('evacuate', host, '--undo', '--yes', '--json');
    expect(undo.code, undo.stderr).toBe(0);
    expect(JSON.parse(undo.stdout).results[0]).toMatchObject({ succeeded: 1, failed: 0 });
    const end = await sim.state();
    expect(maintenance(end, host)).toBe(false);
    // Its VMs are not moved back.
    expect(end.vms.map((v) => [v.name, v.host])).toEqual(mid.vms.map((v) => [v.name, v.host]));
    expect((await sim.calls()).ExitMaintenanceMode_Task).toBe(1);
    ranOnce(end);

    // A powered-off VM moves cold, and stays off.
    const to = end.hosts.find((h) => h.name !== host)!.name;
    const cold = run('migrate', off, '--to', to, '--yes', '--json');
    expect(cold.code, cold.stderr).toBe(0);
    expect(JSON.parse(cold.stdout).plans[0].phases[0][0]).toMatchObject({ type: 'migrate', vm: off, to, live: false });
    const last = await sim.state();
    expect(last.vms.find((v) => v.name === off)).toMatchObject({ host: to, powerState: 'poweredOff', reallyRunning: false });
    ranOnce(last);
  }, 60_000);

  it('with the controller running, the CLI hands the work to it, and vcsim shows it done', async () => {
    const service = vigilProcess(['run', '--config', join(dir, 'vigil.yaml')], { cwd: dir, env: { VCSIM_PASSWORD: sim.password } });
    try {
      await waitFor('the controller\'s first poll', async () => {
        const res = await fetch(`http://127.0.0.1:${apiPort}/api/v1/status`);
        const st = (await res.json()) as { clusters: { lastPoll?: unknown }[] };
        return st.clusters[0]?.lastPoll ? true : undefined;
      });
      const before = await sim.state();
      const vm = before.vms.find((v) => v.powerState === 'poweredOn')!;
      const to = before.hosts.find((h) => h.name !== vm.host && !h.maintenance)!.name;
      await sim.calls(true);
      const r = run('migrate', vm.name, '--to', to, '--yes');
      expect(r.code, `${r.stdout}\n${r.stderr}\n${service.output()}`).toBe(0);
      expect(r.stdout).toContain(`carried out by the controller at http://127.0.0.1:${apiPort}`);
      expect(r.stdout).toContain('1 of 1 action(s) succeeded');
      const after = await sim.state();
      expect(hostOf(after, vm.name)).toBe(to);
      expect((await sim.calls()).RelocateVM_Task).toBe(1);
      ranOnce(after);
    } finally {
      service.kill('SIGTERM');
      await waitFor('the controller to stop', async () => (service.exitCode === null && service.signalCode === null ? undefined : true));
    }
    expect(service.exitCode, service.output()).toBe(0);
  }, 60_000);
});
