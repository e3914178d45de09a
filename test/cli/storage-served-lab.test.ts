/**
 * Storage findings end to end, as an operator sees them: `vigil lab serve`
 * and `vigil run` as two processes; a datastore degraded on a host and
 * filled from a third command shows up in the status JSON, `vigil status`
 * and /metrics.
 */
import axios from 'axios';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, vigil, vigilProcess, waitFor } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { builtinPath } from '../../src/paths.js';

const children: ReturnType<typeof vigilProcess>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

interface Ds {
  name: string;
  freeGiB: number | null;
  degradedOn?: string[];
  condition?: string;
  level?: string;
}

describe('storage findings through vigil run against a served lab', () => {
  it('a degraded and nearly full datastore shows in the status JSON, the status table and /metrics', async () => {
    const [labPort, apiPort] = [await freePort(), await freePort()];
    const labUrl = `http://127.0.0.1:${labPort}`;
    children.push(vigilProcess(['lab', 'serve', '--listen', `127.0.0.1:${labPort}`]));
    await waitFor('the lab', async () => (await axios.get(`${labUrl}/lab/inventory`)).data);

    const dir = tempDir();
    const config = join(dir, 'vigil.yaml');
    writeFileSync(config, `controller:\n  pollInterval: 300ms\n  listen: 127.0.0.1:${apiPort}\npolicies: ${builtinPath('policies')}\nclusters:\n  - name: lab\n    provider: sim\n    url: ${labUrl}\n`);
    const run = vigilProcess(['run', '--config', config]);
    children.push(run);
    const shared = async (): Promise<Ds | undefined> => ((await axios.get(`http://127.0.0.1:${apiPort}/api/v1/status`)).data.clusters[0].datastores as Ds[]).find((d) => d.name === 'ds-shared');
    await waitFor('the first poll', async () => ((await shared())?.condition === 'ok' ? true : undefined));

    expect(vigil(['lab', 'degrade-datastore', 'ds-shared', '--host', 'esx-03', '--url', labUrl])).toMatchObject({ code: 0 });
    expect(vigil(['lab', 'fill-datastore', 'ds-shared', '--free-gib', '200', '--url', labUrl])).toMatchObject({ code: 0 });
    expect(vigil(['lab', 'degrade-datastore', 'ds-shared', '--url', labUrl]).code).not.toBe(0);
    await waitFor('the finding', async () => ((await shared())?.level === 'critical' ? true : undefined), 15_000);
    expect(await shared()).toMatchObject({ freeGiB: 200, degradedOn: ['esx-03'], condition: 'degraded', level: 'critical' });

    const table = vigil(['status', '--config', config]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/ds-shared.*200 GiB \(2%, CRITICAL\).*degraded on esx-03/);
    // scratch-01 sits on local-esx-04, but its restart is disabled by policy: nobody would restart it, so it is not "unprotected".
    expect(table.stdout).not.toContain('Unprotected');
    expect(vigil(['lab', 'fail-datastore', 'ds-shared', '--host', 'esx-01', '--url', labUrl])).toMatchObject({ code: 0 });
    expect(vigil(['lab', 'fail-datastore', 'ds-shared', '--host', 'esx-02', '--url', labUrl])).toMatchObject({ code: 0 });
    // Only esx-03 (degraded) and esx-04 reach ds-shared now: the VMs on esx-04 have nowhere else to go.
    await waitFor('VMs of esx-04 unprotected', async () => {
      const vms = (await axios.get(`http://127.0.0.1:${apiPort}/api/v1/status`)).data.clusters[0].vms as { name: string; host: string; protection?: { state: string; reason: string } }[];
      return vms.some((v) => v.host === 'esx-04' && v.protection?.state === 'unprotected') ? true : undefined;
    });

    const metrics = (await axios.get(`http://127.0.0.1:${apiPort}/metrics`)).data as string;
    expect(metrics).toContain('vigil_datastore_free_bytes{cluster="lab",datastore="ds-shared"} 214748364800');
    expect(metrics).toContain('vigil_datastore_hosts{cluster="lab",datastore="ds-shared",access="degraded"} 1');
    expect(metrics).toContain('vigil_datastore_hosts{cluster="lab",datastore="ds-shared",access="accessible"} 2');
    expect(metrics).toContain('vigil_datastore_hosts{cluster="lab",datastore="ds-shared",access="lost"} 2');

    run.kill('SIGTERM');
    await waitFor('a clean stop', async () => (run.exitCode === null ? undefined : run.exitCode));
  }, 60_000);
});
