import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import { FakeClock } from '../../../src/clock/fake-clock.js';
import { loadInventoryFile } from '../../../src/inventory/load.js';
import { builtinPath } from '../../../src/paths.js';
import { silentLogger } from '../../../src/log.js';
import { Lab } from '../../../providers/sim/lab.js';
import { buildLabServer } from '../../../providers/sim/lab-server.js';
import simProvider from '../../../providers/sim/index.js';
import type { FastifyInstance } from 'fastify';

const inventory = () => loadInventoryFile(builtinPath('examples/lab.yaml')).inventory;
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('lab HTTP routes', () => {
  const clock = new FakeClock();
  const lab = new Lab(inventory(), clock);
  const app = buildLabServer(lab, clock);

  it('answers an unknown host with 404 and a JSON error', async () => {
    const res = await app.inject({ method: 'POST', url: '/lab/hosts/nope/fail' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'unknown-host', message: 'unknown host "nope"' } });
  });

  it('fails a host, and the inventory and the log show it', async () => {
    expect((await app.inject({ method: 'POST', url: '/lab/hosts/esx-03/fail' })).statusCode).toBe(200);
    const inv = (await app.inject({ method: 'GET', url: '/lab/inventory' })).json();
    expect(inv.clusters[0].hosts.find((h: { name: string }) => h.name === 'esx-03')).toMatchObject({ state: 'notResponding', runtime: { alive: false } });
    const log = await app.inject({ method: 'GET', url: '/lab/log' });
    expect(log.headers['content-type']).toMatch(/ndjson/);
    expect(log.body.trim().split('\n').map((l) => JSON.parse(l).op)).toEqual(['fail-host']);
  });

  it('loses a datastore on one host through the query parameter', async () => {
    expect((await app.inject({ method: 'POST', url: '/lab/datastores/ds-shared/fail?host=esx-01' })).statusCode).toBe(200);
    expect(lab.snapshot('lab').datastores.find((d) => d.name === 'ds-shared')?.inaccessibleOn).toEqual(['esx-01']);
    expect((await app.inject({ method: 'POST', url: '/lab/datastores/nope/fail' })).statusCode).toBe(404);
  });

  it('serves a Redfish BMC per host that needs credentials and really powers the host off', async () => {
    const url = '/lab/redfish/esx-04/redfish/v1/Systems/1';
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url, headers: { authorization: basic('admin', 'wrong') } })).statusCode).toBe(401);
    const ok = await app.inject({ method: 'GET', url, headers: { authorization: basic('admin', 'lab') } });
    expect(ok.json()).toMatchObject({ PowerState: 'On', Actions: { '#ComputerSystem.Reset': { target: `${url}/Actions/ComputerSystem.Reset` } } });
    const reset = await app.inject({ method: 'POST', url: `${url}/Actions/ComputerSystem.Reset`, headers: { authorization: basic('admin', 'lab') }, payload: { ResetType: 'ForceOff' } });
    expect(reset.statusCode).toBe(204);
    expect(lab.bmcPowerState('esx-04')).toBe('PoweringOff');
    await clock.advance(3_000);
    expect(lab.bmcPowerState('esx-04')).toBe('Off');
    expect(lab.runningVms().get('web-04')).toBeUndefined();
    const bad = await app.inject({ method: 'POST', url: `${url}/Actions/ComputerSystem.Reset`, headers: { authorization: basic('admin', 'lab') }, payload: { ResetType: 'Sideways' } });
    expect(bad.statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/lab/redfish/esx-99/redfish/v1/Systems/1', headers: { authorization: basic('admin', 'lab') } })).statusCode).toBe(404);
  });

  it('makes the next migration of a VM fail half-way, and refuses a bad count', async () => {
    expect((await app.inject({ method: 'POST', url: '/lab/vms/web-01/fail-migration?count=x' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/lab/vms/nope/fail-migration' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/lab/vms/web-01/fail-migration' })).statusCode).toBe(200);
    const t = lab.migrate('web-01', 'esx-02', true);
    await clock.advance(10_000);
    expect(lab.task(t.id)).toMatchObject({ state: 'error' });
    expect(lab.snapshot('lab').vms.find((v) => v.name === 'web-01')?.host).toBe('esx-01');
  });

  it('injects API faults for the manager API', async () => {
    await app.inject({ method: 'POST', url: '/lab/faults', payload: { failNext: 1 } });
    expect((await app.inject({ method: 'GET', url: '/sim/v1/clusters/lab/snapshot' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/sim/v1/clusters/lab/snapshot' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/lab/faults', payload: { failNext: 'x' } })).statusCode).toBe(400);
  });
});

describe('the sim provider against a lab served over HTTP', () => {
  let app: FastifyInstance;
  let url = '';
  const clock = new SystemClock();
  const lab = new Lab(inventory(), clock, { timings: { powerOnBaseMs: 50, powerOnMsPerGiB: 0, migrationBaseMs: 50, migrationGiBPerSecond: 1000 } });

  beforeAll(async () => {
    app = buildLabServer(lab, clock);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    url = typeof addr === 'object' && addr ? `http://127.0.0.1:${addr.port}` : '';
  });
  afterAll(async () => app.close());

  it('reads a snapshot, migrates a VM and follows the task to its end', async () => {
    const config = simProvider.configSchema.parse({ name: 'lab', provider: 'sim', url });
    const provider = await simProvider.create(config, { clock, logger: silentLogger(), baseDir: '.' });
    const snap = await provider.snapshot();
    expect(snap.cluster).toBe('lab');
    expect(snap.hosts.map((h) => h.name)).toEqual(['esx-01', 'esx-02', 'esx-03', 'esx-04']);
    const ref = await provider.migrate({ id: 'web-01', name: 'web-01' }, { id: 'esx-03', name: 'esx-03' }, { live: true });
    let state = await provider.task(ref);
    for (let i = 0; i < 50 && state.state === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      state = await provider.task(ref);
    }
    expect(state.state).toBe('success');
    expect((await provider.snapshot()).vms.find((v) => v.name === 'web-01')?.host).toBe('esx-03');
  });

  it('turns lab refusals into coded errors: expected, retryable or not', async () => {
    const config = simProvider.configSchema.parse({ name: 'lab', provider: 'sim', url });
    const provider = await simProvider.create(config, { clock, logger: silentLogger(), baseDir: '.' });
    await expect(provider.migrate({ id: 'nope', name: 'nope' }, { id: 'esx-01', name: 'esx-01' }, { live: true })).rejects.toMatchObject({ code: 'VIGIL_E_UNKNOWN_VM', expected: true });
    await expect(provider.migrate({ id: 'batch-04', name: 'batch-04' }, { id: 'esx-02', name: 'esx-02' }, { live: true })).rejects.toMatchObject({ code: 'VIGIL_E_PROVIDER_REFUSED', retryable: false });
    lab.setApiFaults({ failNext: 1 });
    await expect(provider.snapshot()).rejects.toMatchObject({ code: 'VIGIL_E_PROVIDER_UNAVAILABLE', retryable: true });
  });

  it('says a lab that is not there is unavailable, not that the cluster is empty', async () => {
    const config = simProvider.configSchema.parse({ name: 'lab', provider: 'sim', url: 'http://127.0.0.1:9' });
    const provider = await simProvider.create(config, { clock, logger: silentLogger(), baseDir: '.' });
    await expect(provider.snapshot()).rejects.toMatchObject({ code: 'VIGIL_E_PROVIDER_UNAVAILABLE' });
  });
});
