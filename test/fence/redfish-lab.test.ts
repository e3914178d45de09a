/**
 * The Redfish agent against the lab's own BMCs: fencing a partitioned host
 * (the manager lost it, its VMs still run) really stops its VMs, and the
 * lab's log says so. Over real HTTP with the lab served on an ephemeral
 * port, and in memory under simulated time through injectTransport.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/clock/clock.js';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { ErrorCodes } from '../../src/errors.js';
import { injectTransport } from '../../src/fence/inject-transport.js';
import { RedfishAgent } from '../../src/fence/redfish.js';
import { loadInventoryFile } from '../../src/inventory/load.js';
import { builtinPath } from '../../src/paths.js';
import { Lab } from '../../providers/sim/lab.js';
import { buildLabServer, DEFAULT_LAB_REDFISH } from '../../providers/sim/lab-server.js';
import { fenceContext, rejectionOf } from './helpers.js';

const inventory = () => loadInventoryFile(builtinPath('examples/lab.yaml')).inventory;
const vmsOn = (lab: Lab, host: string) => [...lab.runningVms()].filter(([, h]) => h === host).map(([vm]) => vm);

describe('RedfishAgent against the lab BMC over HTTP', () => {
  const clock = new SystemClock();
  const lab = new Lab(inventory(), clock, { timings: { powerOffHostMs: 200 } });
  let app: FastifyInstance;
  let url = '';

  beforeAll(async () => {
    app = buildLabServer(lab, clock);
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => app.close());

  const agent = (password: string = DEFAULT_LAB_REDFISH.password) =>
    new RedfishAgent({ url: `${url}/lab/redfish/{host}`, username: DEFAULT_LAB_REDFISH.username, password, pollIntervalMs: 50, powerOffTimeoutMs: 5_000 }, fenceContext({ clock }));

  it('fences a partitioned host: its VMs really stop, and the lab logs power-off-host', async () => {
    lab.partitionHost('esx-03');
    const before = vmsOn(lab, 'esx-03');
    expect(before.length).toBeGreaterThan(0); // partitioned: still running them
    expect(await agent().powerState({ host: 'esx-03' })).toBe('on');

    const proof = await agent().fence({ host: 'esx-03' });

    expect(proof.evidence).toBe(`PowerState Off at ${url}/lab/redfish/esx-03/redfish/v1/Systems/1 after ForceOff`);
    expect(vmsOn(lab, 'esx-03')).toEqual([]);
    expect(lab.log().filter((e) => e.op === 'power-off-host').map((e) => e.host)).toEqual(['esx-03']);
    expect(await agent().powerState({ host: 'esx-03' })).toBe('off');
    // The other hosts' VMs are untouched.
    expect(vmsOn(lab, 'esx-01').length).toBeGreaterThan(0);
  });

  it('is refused with FENCE_AUTH by the lab BMC on a wrong password, and the host keeps running', async () => {
    const err = await rejectionOf(agent('wrong').fence({ host: 'esx-02' }));
    expect(err.code).toBe(ErrorCodes.FENCE_AUTH);
    expect(vmsOn(lab, 'esx-02').length).toBeGreaterThan(0);
  });

  it('fails with FENCE_FAILED naming the URL for a host the lab has no BMC for', async () => {
    const err = await rejectionOf(agent().fence({ host: 'esx-99' }));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.message).toContain(`GET ${url}/lab/redfish/esx-99/redfish/v1: the BMC answered HTTP 404`);
  });
});

describe('RedfishAgent against the lab BMC in memory, in simulated time', () => {
  it('fences through injectTransport with a fake clock', async () => {
    const clock = new FakeClock();
    const lab = new Lab(inventory(), clock);
    const app = buildLabServer(lab, clock);
    lab.partitionHost('esx-04');
    const agent = new RedfishAgent(
      { url: 'http://lab.invalid/lab/redfish/{host}', username: 'admin', password: 'lab' },
      fenceContext({ clock }),
      injectTransport(app),
    );
    // The lab's power drops 3 s after ForceOff; the agent polls PowerState on the clock meanwhile.
    const fencing = agent.fence({ host: 'esx-04' });
    await clock.advance(5_000);
    const proof = await fencing;
    expect(proof).toEqual({ agent: 'redfish', evidence: 'PowerState Off at http://lab.invalid/lab/redfish/esx-04/redfish/v1/Systems/1 after ForceOff', at: 3_000 + Date.UTC(2026, 0, 1) });
    expect(vmsOn(lab, 'esx-04')).toEqual([]);
    await app.close();
  });
});
