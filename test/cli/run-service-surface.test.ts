/**
 * `vigil run` as a process, with its whole HTTP surface as an operator sees
 * it: the status page, metrics, a webhook with its token, the CLI's freeze
 * through the control routes, and SIGHUP rotating the webhook token.
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

const OLD = 'first-token-0123456789abcdef';
const NEW = 'second-token-0123456789abcdef';

describe('vigil run: page, metrics, hooks, controls, reload', () => {
  it('serves them all, and a SIGHUP takes a rotated token at once', async () => {
    const apiPort = await freePort();
    const dir = tempDir({ 'token': `${OLD}\n` });
    const config = join(dir, 'vigil.yaml');
    writeFileSync(
      config,
      `controller:\n  pollInterval: 1h\n  listen: 127.0.0.1:${apiPort}\n  stateDir: ./state\n  webhook: {tokenFile: ./token}\npolicies: ${builtinPath('policies')}\nclusters:\n  - {name: lab, provider: sim, inventory: ${builtinPath('examples/lab.yaml')}}\n`,
    );
    const run = vigilProcess(['run', '--config', config], { env: { VIGIL_LOG_LEVEL: 'info' } });
    children.push(run);
    const base = `http://127.0.0.1:${apiPort}`;
    const get = (path: string) => axios.get(`${base}${path}`, { validateStatus: () => true });
    await waitFor('the first poll', async () => ((await get('/api/v1/status')).data?.clusters?.[0]?.lastPoll ? true : undefined));

    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const metrics = await get('/metrics');
    expect(metrics.data).toMatch(/^vigil_hosts\{cluster="lab",state="connected",health="healthy"\} 4$/m);
    expect(metrics.data).toMatch(/^process_resident_memory_bytes \d+/m);

    const hook = (token: string) =>
      axios.post(`${base}/hooks/generic`, { cluster: 'lab', host: 'esx-02', severity: 'warning', message: 'fan' }, { headers: { authorization: `Bearer ${token}` }, validateStatus: () => true });
    expect((await hook(OLD)).status).toBe(202);
    expect((await hook(NEW)).status).toBe(401);
    expect((await get('/metrics')).data).toMatch(/^vigil_webhook_requests_total\{source="generic",status="401"\} 1$/m);

    // The CLI presents the token from the same file to the control routes.
    expect(vigil(['freeze', '--cluster', 'lab', '--reason', 'test', '--config', config])).toMatchObject({ code: 0 });
    expect((await get('/api/v1/status')).data.clusters[0].frozen).toBe(true);

    writeFileSync(join(dir, 'token'), `${NEW}\n`);
    run.kill('SIGHUP');
    await waitFor('the new token', async () => ((await hook(NEW)).status === 202 ? true : undefined), 10_000);
    expect((await hook(OLD)).status).toBe(401);
    expect(vigil(['unfreeze', '--cluster', 'lab', '--config', config])).toMatchObject({ code: 0 });
    expect((await get('/api/v1/status')).data.clusters[0].frozen).toBe(false);

    run.kill('SIGTERM');
    await waitFor('a clean stop', async () => (run.exitCode === null ? undefined : run.exitCode));
    expect(run.exitCode).toBe(0);
    expect(run.output()).not.toContain(OLD);
    expect(run.output()).not.toContain(NEW);
  }, 60_000);
});
