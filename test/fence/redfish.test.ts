/**
 * The Redfish agent against a real HTTP server serving DMTF's published
 * mockup (test/fence/redfish-bmc.ts), over real sockets with short real
 * intervals. No assertion depends on how fast anything ran.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RedfishAgent, type RedfishAgentOptions } from '../../src/fence/redfish.js';
import { ErrorCodes } from '../../src/errors.js';
import { startFakeBmc, type FakeBmc, type FakeBmcOptions } from './redfish-bmc.js';
import { captureLog, fenceContext, rejectionOf } from './helpers.js';

const target = { host: 'web483' };
const FAST = { requestTimeoutMs: 2_000, pollIntervalMs: 25, powerOffTimeoutMs: 5_000 };

let bmc: FakeBmc | undefined;
afterEach(async () => {
  await bmc?.close();
  bmc = undefined;
});

async function start(options: FakeBmcOptions = {}): Promise<FakeBmc> {
  bmc = await startFakeBmc(options);
  return bmc;
}

function agent(url: string, extra: Partial<RedfishAgentOptions> = {}, logger = captureLog().logger): RedfishAgent {
  return new RedfishAgent({ url, username: 'admin', password: 'bmc-secret-pw', ...FAST, ...extra }, fenceContext({ logger }));
}

const resets = (b: FakeBmc) => b.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Actions/ComputerSystem.Reset'));
const systemReads = (b: FakeBmc) => b.requests.filter((r) => r.method === 'GET' && r.path === b.systemPath);

describe('RedfishAgent against a BMC serving the DMTF mockup', () => {
  it('powers the system off with Basic auth, polls until PowerState is Off, and only then returns the proof', async () => {
    const b = await start();
    const proof = await agent(b.url).fence(target);
    expect(proof.agent).toBe('redfish');
    expect(proof.evidence).toBe(`PowerState Off at ${b.url}/redfish/v1/Systems/437XR1138R2 after ForceOff`);
    expect(b.power()).toBe('Off');
    expect(resets(b)).toEqual([{ method: 'POST', path: '/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset', auth: 'basic', body: { ResetType: 'ForceOff' } }]);
    // One read before the reset, then the BMC says On at least twice more before Off: the agent polled.
    expect(systemReads(b).length).toBeGreaterThanOrEqual(4);
    expect(b.requests.every((r) => r.auth === 'basic' || r.path === '/redfish/v1')).toBe(true);
  });

  it('accepts a url that already ends in /redfish/v1', async () => {
    const b = await start();
    const proof = await agent(`${b.url}/redfish/v1/`).fence(target);
    expect(proof.evidence).toContain('/redfish/v1/Systems/437XR1138R2 after ForceOff');
  });

  it('uses a Redfish session when configured, with X-Auth-Token, and deletes the session afterwards', async () => {
    const b = await start();
    const proof = await agent(b.url, { auth: 'session' }).fence(target);
    expect(proof.evidence).toContain('PowerState Off');
    expect(b.sessions).toMatchObject({ created: 1, deleted: 1 });
    expect(b.sessions.live.size).toBe(0);
    const login = b.requests.find((r) => r.method === 'POST' && r.path === '/redfish/v1/SessionService/Sessions');
    expect(login?.body).toEqual({ UserName: 'admin', Password: 'bmc-secret-pw' });
    const after = b.requests.slice(b.requests.indexOf(login!) + 1);
    expect(after.length).toBeGreaterThan(3);
    expect(after.every((r) => r.auth === 'token')).toBe(true);
    expect(after.at(-1)).toMatchObject({ method: 'DELETE', path: '/redfish/v1/SessionService/Sessions/S1' });
  });

  it('deletes the session even when the fence fails', async () => {
    const b = await start({ ignoreReset: true });
    const err = await rejectionOf(agent(b.url, { auth: 'session', powerOffTimeoutMs: 200 }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_TIMEOUT);
    expect(b.sessions).toMatchObject({ created: 1, deleted: 1 });
  });

  it('sends no reset to a system that is already off, and proves it off from the reading', async () => {
    const b = await start({ initialPower: 'Off' });
    const proof = await agent(b.url).fence(target);
    expect(proof.evidence).toBe(`PowerState Off at ${b.url}/redfish/v1/Systems/437XR1138R2 (already off; no reset sent)`);
    expect(resets(b)).toEqual([]);
  });

  it('follows a 202 task monitor to its end, then still proves Off from PowerState', async () => {
    const b = await start({ resetAnswer: '202' });
    const proof = await agent(b.url).fence(target);
    expect(proof.evidence).toContain('PowerState Off');
    const monitorReads = b.requests.filter((r) => r.path === '/redfish/v1/TaskService/TaskMonitors/546');
    expect(monitorReads.length).toBeGreaterThanOrEqual(1);
    // The PowerState poll comes after the task: the task is not the proof.
    const lastMonitor = b.requests.lastIndexOf(monitorReads.at(-1)!);
    expect(b.requests.slice(lastMonitor + 1).some((r) => r.path === b.systemPath)).toBe(true);
  });

  it('gives no proof when the reset task ends in Exception', async () => {
    const b = await start({ resetAnswer: '202-fails' });
    const err = await rejectionOf(agent(b.url).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.message).toContain('/redfish/v1/TaskService/TaskMonitors/546 ended Exception: The power controller did not respond');
  });

  it('reads the allowed reset types from an ActionInfo resource when the action does not list them (Supermicro)', async () => {
    const b = await start({ profile: 'supermicro' });
    const proof = await agent(b.url).fence({ host: 'gpu-01' });
    expect(proof.evidence).toBe(`PowerState Off at ${b.url}/redfish/v1/Systems/1 after ForceOff`);
    expect(b.requests.some((r) => r.path === '/redfish/v1/Systems/1/ResetActionInfo')).toBe(true);
  });

  it('uses a configured systemPath without walking the Systems collection', async () => {
    const b = await start();
    await agent(b.url, { systemPath: '/redfish/v1/Systems/437XR1138R2' }).fence(target);
    expect(b.requests.some((r) => r.path === '/redfish/v1/Systems')).toBe(false);
  });

  it('reads the power state', async () => {
    const b = await start();
    const a = agent(b.url);
    expect(await a.powerState(target)).toBe('on');
    await a.fence(target);
    expect(await a.powerState(target)).toBe('off');
  });

  it('fails with FENCE_AUTH on wrong credentials, sends no reset and gives no proof', async () => {
    const b = await start();
    const err = await rejectionOf(agent(b.url, { password: 'not-the-password' }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_AUTH);
    expect(err.expected).toBe(true);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/refused the credentials of user "admin" \(HTTP 401/);
    expect(resets(b)).toEqual([]);
    expect(b.power()).toBe('On');
  });

  it('fails with FENCE_AUTH when the session login is refused', async () => {
    const b = await start();
    const err = await rejectionOf(agent(b.url, { auth: 'session', password: 'not-the-password' }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_AUTH);
    expect(err.message).toContain('/redfish/v1/SessionService/Sessions');
    expect(b.sessions.created).toBe(0);
  });

  it('fails with FENCE_TIMEOUT, naming the last state read, when PowerState never reaches Off', async () => {
    const b = await start({ ignoreReset: true });
    const err = await rejectionOf(agent(b.url, { powerOffTimeoutMs: 300 }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_TIMEOUT);
    expect(err.details).toMatchObject({ lastState: 'On', url: `${b.url}/redfish/v1/Systems/437XR1138R2` });
    expect(err.message).toContain('still read "On"');
    expect(err.message).toContain('not proven off');
    expect(resets(b).length).toBe(1);
  });

  it('fails with FENCE_FAILED naming the URL when the system answers with something that is not JSON', async () => {
    const b = await start({ malformedSystem: true });
    const err = await rejectionOf(agent(b.url).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.message).toBe(`unexpected answer from ${b.url}/redfish/v1/Systems/437XR1138R2: expected a JSON object, got text that is not JSON`);
    expect(resets(b)).toEqual([]);
  });
});

describe('RedfishAgent against a BMC that does not answer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('fails with FENCE_UNREACHABLE when nothing listens on the port', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const err = await rejectionOf(agent(`http://127.0.0.1:${closed}`).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_UNREACHABLE);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`GET http://127.0.0.1:${closed}/redfish/v1: cannot reach the BMC (ECONNREFUSED)`);
  });

  it('fails with FENCE_UNREACHABLE within the request timeout when the BMC accepts and never answers', async () => {
    const sockets: import('node:net').Socket[] = [];
    server = createServer((s) => sockets.push(s)); // accepts, reads nothing, says nothing
    const port = await new Promise<number>((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port)));
    const err = await rejectionOf(agent(`http://127.0.0.1:${port}`, { requestTimeoutMs: 300 }).fence(target));
    for (const s of sockets) s.destroy();
    expect(err.code).toBe(ErrorCodes.FENCE_UNREACHABLE);
    expect(err.details.cause).toBe('timeout');
    expect(err.message).toBe(`GET http://127.0.0.1:${port}/redfish/v1: no answer within 300ms`);
    expect(sockets.length).toBeGreaterThanOrEqual(1);
  });

  it('fails with FENCE_UNREACHABLE when the BMC name does not resolve', async () => {
    const err = await rejectionOf(agent('http://{host}.invalid').fence({ host: 'no-such-bmc' }));
    expect(err.code).toBe(ErrorCodes.FENCE_UNREACHABLE);
    expect(err.message).toMatch(/^GET http:\/\/no-such-bmc\.invalid\/redfish\/v1: cannot reach the BMC \((ENOTFOUND|EAI_AGAIN)\)$/);
  });
});
