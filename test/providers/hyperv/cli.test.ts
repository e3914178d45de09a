/** `vigil status` against a Hyper-V cluster entry, through the built CLI, node-powershell and the stand-in pwsh. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, vigilProcess } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';
import { SMALL_CLUSTER, startEstate, type Estate } from './standin.js';

/** Runs the CLI without blocking this process: the stand-in's estate is served from here. */
async function vigilAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = vigilProcess(args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe('vigil status with provider: hyperv', () => {
  let estate: Estate;
  afterEach(async () => {
    await estate?.close();
  });

  it('reports the cluster as the contract says, with the roles the cluster manages', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    estate.sim.setCsvState('Cluster Disk 1', 'hv3', 'BlockRedirected');
    const entry = estate.entry({ name: 'prod-hyperv' }) as { powershell: { executable: string; arguments: string[]; environment: Record<string, string> } };
    const dir = tempDir();
    writeFileSync(
      join(dir, 'vigil.yaml'),
      [
        'controller:',
        `  listen: 127.0.0.1:${await freePort()}`,
        'clusters:',
        '  - name: prod-hyperv',
        '    provider: hyperv',
        '    cluster: HVC01',
        '    powershell:',
        `      executable: ${JSON.stringify(entry.powershell.executable)}`,
        `      arguments: [${JSON.stringify(entry.powershell.arguments[0])}]`,
        `      environment: {VIGIL_STANDIN_URL: ${JSON.stringify(entry.powershell.environment.VIGIL_STANDIN_URL)}}`,
        '',
      ].join('\n'),
    );
    const r = await vigilAsync(['status', '--config', join(dir, 'vigil.yaml'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout).clusters[0];
    expect(c).toMatchObject({ name: 'prod-hyperv', provider: 'hyperv', frozen: false });
    expect(c.hosts.map((h: { name: string; state: string }) => [h.name, h.state])).toEqual([
      ['hv1', 'connected'],
      ['hv2', 'connected'],
      ['hv3', 'connected'],
    ]);
    expect(c.vms.find((v: { name: string }) => v.name === 'db-01')).toEqual(expect.objectContaining({ host: 'hv1', power: 'on', cpu: 8, memoryGiB: 32, datastores: ['Cluster Disk 2'] }));
    expect(c.datastores.find((d: { name: string }) => d.name === 'Cluster Disk 1')).toEqual(expect.objectContaining({ capacityGiB: 2048, freeGiB: 1024, accessible: true }));
    expect(estate.server.calls.get('snapshot')).toBeGreaterThanOrEqual(1);

    const table = await vigilAsync(['status', '--config', join(dir, 'vigil.yaml')]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('hv2');
  });
});
