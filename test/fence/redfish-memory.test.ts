/**
 * The Redfish agent's protocol logic over an in-memory transport and a fake
 * clock: deadlines in simulated time, and answers no well-behaved server
 * gives (several systems, no power-off type, a BMC that drops out while it
 * cuts power, a 503 on the reset).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { ErrorCodes } from '../../src/errors.js';
import { fenceError } from '../../src/fence/errors.js';
import { mapPowerState, RedfishAgent } from '../../src/fence/redfish.js';
import type { HttpRequest, HttpResponse, HttpTransport } from '../../src/fence/types.js';
import { fixture } from './redfish-bmc.js';
import { fenceContext, rejectionOf } from './helpers.js';

type Handler = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;
const json = (body: unknown, status = 200): HttpResponse => ({ status, headers: {}, body });

/** A DMTF-mockup BMC in memory; `routes` override single paths. */
function memoryBmc(routes: Record<string, Handler> = {}): { transport: HttpTransport; seen: HttpRequest[] } {
  const seen: HttpRequest[] = [];
  const system = fixture('dmtf-public-rackmount1-Systems-437XR1138R2.json');
  const base: Record<string, Handler> = {
    'GET /redfish/v1': () => json(fixture('dmtf-public-rackmount1-ServiceRoot.json')),
    'GET /redfish/v1/Systems': () => json(fixture('dmtf-public-rackmount1-Systems-collection.json')),
    'GET /redfish/v1/Systems/437XR1138R2': () => json(system),
    'POST /redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset': () => ({ status: 204, headers: {}, body: undefined }),
  };
  const transport: HttpTransport = async (req) => {
    seen.push(req);
    const key = `${req.method} ${new URL(req.url).pathname}`;
    const h = routes[key] ?? base[key];
    return h ? h(req) : json({ error: { code: 'Base.1.0.ResourceMissingAtURI', message: `no ${key}` } }, 404);
  };
  return { transport, seen };
}

const options = { url: 'https://bmc.example', username: 'admin', password: 'pw', pollIntervalMs: 1_000, powerOffTimeoutMs: 60_000 };

describe('RedfishAgent in simulated time', () => {
  it('times out on the clock: FENCE_TIMEOUT 60 simulated seconds after ForceOff, with the last state', async () => {
    const clock = new FakeClock();
    const { transport, seen } = memoryBmc();
    const agent = new RedfishAgent(options, fenceContext({ clock }), transport);
    const started = clock.now();
    const outcome = agent.fence({ host: 'web483' }).then(
      () => 'proved',
      (e: unknown) => e,
    );
    await clock.advance(59_000);
    expect(await Promise.race([outcome, Promise.resolve('pending')])).toBe('pending');
    await clock.advance(1_000);
    const err = (await outcome) as { code: string; details: Record<string, unknown>; message: string };
    expect(err.code).toBe(ErrorCodes.FENCE_TIMEOUT);
    expect(err.details.lastState).toBe('On');
    expect(err.message).toBe('host web483: PowerState at https://bmc.example/redfish/v1/Systems/437XR1138R2 still read "On" 1m after ForceOff; the host is not proven off');
    expect(clock.now() - started).toBe(60_000);
    // One read before the reset, then one a second: 61 reads in 60 simulated seconds.
    expect(seen.filter((r) => r.method === 'GET' && r.url.endsWith('/Systems/437XR1138R2'))).toHaveLength(62);
  });

  it('keeps polling through a BMC that stops answering for a while during the power-off', async () => {
    const clock = new FakeClock();
    let reads = 0;
    const system = fixture('dmtf-public-rackmount1-Systems-437XR1138R2.json');
    const { transport } = memoryBmc({
      'GET /redfish/v1/Systems/437XR1138R2': () => {
        reads += 1;
        if (reads === 1) return json(system);
        if (reads <= 4) throw fenceError(ErrorCodes.FENCE_UNREACHABLE, 'GET …: cannot reach the BMC (ECONNRESET)');
        if (reads === 5) return json({ ...system, PowerState: 'PoweringOff' });
        return json({ ...system, PowerState: 'Off' });
      },
    });
    const agent = new RedfishAgent(options, fenceContext({ clock }), transport);
    const outcome = agent.fence({ host: 'web483' });
    await clock.advance(10_000);
    expect((await outcome).evidence).toBe('PowerState Off at https://bmc.example/redfish/v1/Systems/437XR1138R2 after ForceOff');
  });

  it('reports the last error with the timeout when the BMC never answers again', async () => {
    const clock = new FakeClock();
    let reads = 0;
    const { transport } = memoryBmc({
      'GET /redfish/v1/Systems/437XR1138R2': () => {
        if (++reads === 1) return json(fixture('dmtf-public-rackmount1-Systems-437XR1138R2.json'));
        throw fenceError(ErrorCodes.FENCE_UNREACHABLE, 'GET https://bmc.example/redfish/v1/Systems/437XR1138R2: no answer within 10000ms');
      },
    });
    const outcome = rejectionOf(new RedfishAgent(options, fenceContext({ clock }), transport).fence({ host: 'web483' }));
    await clock.advance(61_000);
    const err = await outcome;
    expect(err.code).toBe(ErrorCodes.FENCE_TIMEOUT);
    expect(err.message).toContain('still read "On"');
    expect(err.message).toContain('(last error: GET https://bmc.example/redfish/v1/Systems/437XR1138R2: no answer within 10000ms)');
  });

  it('stops waiting when the caller aborts', async () => {
    const clock = new FakeClock();
    const { transport } = memoryBmc();
    const ctrl = new AbortController();
    const outcome = rejectionOf(new RedfishAgent(options, fenceContext({ clock }), transport).fence({ host: 'web483' }, ctrl.signal));
    await clock.advance(3_000);
    ctrl.abort(new Error('controller stopping'));
    expect((await outcome).message).toBe('controller stopping');
  });
});

describe('RedfishAgent refuses what it cannot prove', () => {
  it('refuses to choose among several systems without systemPath', async () => {
    const collection = { ...fixture('dmtf-public-rackmount1-Systems-collection.json'), Members: [{ '@odata.id': '/redfish/v1/Systems/A' }, { '@odata.id': '/redfish/v1/Systems/B' }] };
    const { transport, seen } = memoryBmc({ 'GET /redfish/v1/Systems': () => json(collection) });
    const err = await rejectionOf(new RedfishAgent(options, fenceContext({ clock: new FakeClock() }), transport).fence({ host: 'web483' }));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.expected).toBe(true);
    expect(err.message).toBe('https://bmc.example/redfish/v1/Systems lists 2 systems (/redfish/v1/Systems/A, /redfish/v1/Systems/B): set systemPath to the one that is this host');
    expect(seen.some((r) => r.method === 'POST')).toBe(false);
  });

  it('refuses a BMC whose allowed reset types include no power-off', async () => {
    const system = fixture('dmtf-public-rackmount1-Systems-437XR1138R2.json');
    system.Actions['#ComputerSystem.Reset']['ResetType@Redfish.AllowableValues'] = ['On', 'ForceRestart', 'Nmi'];
    const { transport, seen } = memoryBmc({ 'GET /redfish/v1/Systems/437XR1138R2': () => json(system) });
    const err = await rejectionOf(new RedfishAgent(options, fenceContext({ clock: new FakeClock() }), transport).fence({ host: 'web483' }));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.message).toContain('offers no reset type that powers the system off (it allows On, ForceRestart, Nmi)');
    expect(seen.some((r) => r.method === 'POST')).toBe(false);
  });

  it('falls back to another power-off type the BMC lists when ForceOff is not offered', async () => {
    const clock = new FakeClock();
    const system = fixture('dmtf-public-rackmount1-Systems-437XR1138R2.json');
    system.Actions['#ComputerSystem.Reset']['ResetType@Redfish.AllowableValues'] = ['On', 'GracefulShutdown', 'PushPowerButton'];
    let off = false;
    const { transport, seen } = memoryBmc({
      'GET /redfish/v1/Systems/437XR1138R2': () => json({ ...system, PowerState: off ? 'Off' : 'On' }),
      'POST /redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset': () => {
        off = true;
        return json({}, 200);
      },
    });
    const proof = await new RedfishAgent(options, fenceContext({ clock }), transport).fence({ host: 'web483' });
    expect(proof.evidence).toContain('after GracefulShutdown');
    expect(seen.find((r) => r.method === 'POST')?.body).toEqual({ ResetType: 'GracefulShutdown' });
  });

  it('reports a 503 on the reset as a retryable FENCE_FAILED with the BMC message, and no proof', async () => {
    const { transport } = memoryBmc({
      'POST /redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset': () =>
        json({ error: { code: 'Base.1.0.ServiceTemporarilyUnavailable', message: 'busy', '@Message.ExtendedInfo': [{ Message: 'The service is temporarily unavailable.' }] } }, 503),
    });
    const err = await rejectionOf(new RedfishAgent(options, fenceContext({ clock: new FakeClock() }), transport).fence({ host: 'web483' }));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(
      'POST https://bmc.example/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset: the BMC answered HTTP 503: The service is temporarily unavailable. (Base.1.0.ServiceTemporarilyUnavailable)',
    );
  });

  it('refuses a system without PowerState or without a reset action, naming the URL', async () => {
    const system = fixture('dmtf-public-rackmount1-Systems-437XR1138R2.json');
    delete system.PowerState;
    let { transport } = memoryBmc({ 'GET /redfish/v1/Systems/437XR1138R2': () => json(system) });
    let err = await rejectionOf(new RedfishAgent(options, fenceContext(), transport).fence({ host: 'web483' }));
    expect(err.message).toBe('unexpected answer from https://bmc.example/redfish/v1/Systems/437XR1138R2: the ComputerSystem has no PowerState');
    const noAction = { ...fixture('dmtf-public-rackmount1-Systems-437XR1138R2.json'), Actions: {} };
    ({ transport } = memoryBmc({ 'GET /redfish/v1/Systems/437XR1138R2': () => json(noAction) }));
    err = await rejectionOf(new RedfishAgent(options, fenceContext(), transport).fence({ host: 'web483' }));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.message).toBe('unexpected answer from https://bmc.example/redfish/v1/Systems/437XR1138R2: the ComputerSystem has no #ComputerSystem.Reset action');
  });

  it('needs the host address when the URL template uses {address}', async () => {
    const off = { ...fixture('dmtf-public-rackmount1-Systems-437XR1138R2.json'), PowerState: 'Off' };
    const { transport, seen } = memoryBmc({ 'GET /redfish/v1/Systems/437XR1138R2': () => json(off) });
    const agent = new RedfishAgent({ ...options, url: 'https://{address}' }, fenceContext(), transport);
    const err = await rejectionOf(agent.fence({ host: 'web483' }));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.message).toContain('needs {address}');
    expect(seen).toEqual([]);
    const proof = await agent.fence({ host: 'web483', address: 'fd00::17' });
    expect(seen[0]?.url).toBe('https://[fd00::17]/redfish/v1');
    expect(proof.evidence).toBe('PowerState Off at https://[fd00::17]/redfish/v1/Systems/437XR1138R2 (already off; no reset sent)');
  });

  it('maps Redfish power states: only Off is off, unknown values stay unknown', () => {
    expect(['On', 'Off', 'PoweringOn', 'PoweringOff', 'Paused', 'Sideways'].map(mapPowerState)).toEqual(['on', 'off', 'on', 'on', 'on', 'unknown']);
  });
});
