/**
 * `vigil lab serve` and `vigil run` as two processes, as an operator runs
 * them: a host is failed from a third command, the controller restarts its
 * VMs, and the lab's own log shows every start exactly once.
 */
import axios from 'axios';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, vigil, vigilProcess, waitFor } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { builtinPath } from '../../src/paths.js';

const children: ReturnType<typeof vigilProcess>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe('vigil run against vigil lab serve', () => {
  it('restarts the VMs of a host failed from another terminal, each once', async () => {
    const [labPort, apiPort] = [await freePort(), await freePort()];
    const labUrl = `http://127.0.0.1:${labPort}`;
    const lab = vigilProcess(['lab', 'serve', '--listen', `127.0.0.1:${labPort}`, '--speed', '10']);
    children.push(lab);
    await waitFor('the lab', async () => (await axios.get(`${labUrl}/lab/inventory`)).data);

    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(dir, 'vigil.yaml'),
      `controller:\n  pollInterval: 300ms\n  listen: 127.0.0.1:${apiPort}\n  execution: {taskPollInterval: 100ms}\npolicies: ${builtinPath('policies')}\nclusters:\n  - name: lab\n    provider: sim\n    url: ${labUrl}\n    fencing:\n      agents:\n        - {type: redfish, url: "${labUrl}/lab/redfish/{host}", username: admin, password: lab, pollInterval: 100ms}\n`,
    );
    const run = vigilProcess(['run', '--config', join(dir, 'vigil.yaml')], { env: { VIGIL_LOG_LEVEL: 'info' } });
    children.push(run);
    const status = async () => (await axios.get(`http://127.0.0.1:${apiPort}/api/v1/status`)).data;
    await waitFor('the first poll', async () => ((await status()).clusters[0].lastPoll ? true : undefined));

    expect(vigil(['lab', 'fail-host', 'esx-02', '--url', labUrl])).toMatchObject({ code: 0 });
    const onEsx02 = ['db-02', 'web-02', 'web-06', 'app-02', 'app-05', 'cache-01', 'batch-03'];
    await waitFor(
      'every restartable VM of esx-02 to run elsewhere',
      async () => {
        const s = await status();
        const moved = s.clusters[0].vms.filter((v: { name: string; host: string; power: string }) => onEsx02.includes(v.name) && v.host !== 'esx-02' && v.power === 'on');
        return moved.length === onEsx02.length ? true : undefined;
      },
      30_000,
    );
    const log = vigil(['lab', 'log', '--url', labUrl]);
    const entries = log.stdout.trim().split('\n').map((l) => JSON.parse(l) as { op: string; vm?: string; error?: string });
    expect(entries.filter((e) => e.error)).toEqual([]);
    const starts = entries.filter((e) => e.op === 'start').map((e) => e.vm).sort();
    expect(starts).toEqual([...onEsx02].sort());
    // The host was fenced through its BMC before the first start.
    const powerOff = entries.findIndex((e) => e.op === 'power-off-host');
    expect(powerOff).toBeGreaterThanOrEqual(0);
    expect(powerOff).toBeLessThan(entries.findIndex((e) => e.op === 'start'));
    // dev-01 is disabled by policy: it stays down, and says so.
    expect((await status()).clusters[0].recent.some((d: { kind: string; subject: string }) => d.kind === 'skipped' && d.subject === 'dev-01')).toBe(true);

    run.kill('SIGTERM');
    await waitFor('a clean stop', async () => (run.exitCode === null ? undefined : run.exitCode));
    expect(run.exitCode).toBe(0);
    expect(run.output()).toContain('stopped');
  }, 60_000);
});
