/** `vigil status --config` against vcsim, through the built CLI, with TLS and the password from the environment. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVcsim, type Vcsim } from '../../../bench/vsphere/vcsim.js';
import { freePort, vigil } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

describe('vigil status on vSphere (vcsim)', () => {
  let sim: Vcsim;
  let dir: string;
  beforeAll(async () => {
    sim = await startVcsim({ hosts: 3, vms: 4, tls: true });
    dir = tempDir();
    const port = await freePort();
    writeFileSync(
      join(dir, 'vigil.yaml'),
      [
        'controller:',
        `  listen: 127.0.0.1:${port}`,
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
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('reports hosts, VMs and datastores as JSON and as a table', async () => {
    const st = await sim.state();
    const r = vigil(['status', '--config', join(dir, 'vigil.yaml'), '--json'], { cwd: dir, env: { VCSIM_PASSWORD: sim.password } });
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout).clusters[0];
    expect(c).toMatchObject({ name: 'vc', provider: 'vsphere' });
    expect(c.hosts.map((h: { name: string }) => h.name)).toEqual(st.hosts.map((h) => h.name));
    expect(c.hosts[0]).toMatchObject({ state: 'connected', cpu: 2, memoryGiB: 4 });
    expect(c.vms.map((v: { name: string; host: string; power: string }) => [v.name, v.host, v.power])).toEqual(st.vms.map((v) => [v.name, v.host, 'on']));
    expect(c.datastores[0]).toMatchObject({ name: 'LocalDS_0', accessible: true, hosts: ['DC0_C0_H0', 'DC0_C0_H1', 'DC0_C0_H2'] });
    expect(`${r.stdout}${r.stderr}`).not.toContain(sim.password);

    const table = vigil(['status', '--config', join(dir, 'vigil.yaml')], { cwd: dir, env: { VCSIM_PASSWORD: sim.password } });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('DC0_C0_RP0_VM3');
  });

  it('says why it cannot read the cluster, without the password', async () => {
    const r = vigil(['status', '--config', join(dir, 'vigil.yaml'), '--json'], { cwd: dir, env: { VCSIM_PASSWORD: 'Not-The-Password-42' } });
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toContain('incorrect user name or password');
    expect(out).not.toContain('Not-The-Password-42');
  });
});
