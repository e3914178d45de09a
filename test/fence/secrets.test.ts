/**
 * Secrets never leave a fence agent: with a wrong password (and, for good
 * measure, a right one), no log line at trace level, no error message, no
 * serialised or inspected error and no agent object contains the password,
 * its Basic-auth form or a Redfish session token.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import { IpmiAgent } from '../../src/fence/ipmi.js';
import { RedfishAgent } from '../../src/fence/redfish.js';
import { startFakeBmc, type FakeBmc } from './redfish-bmc.js';
import { startIpmiSim, type IpmiSim } from './ipmi-sim.js';
import { captureLog, fenceContext, rejectionOf } from './helpers.js';

const WRONG = 'Wr0ng-Pa55word-xyz';

/** Every form in which a secret could leak. */
function forms(user: string, secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), Buffer.from(`${user}:${secret}`).toString('base64')];
}

function expectClean(haystacks: string[], secrets: string[]): void {
  for (const h of haystacks) for (const s of secrets) expect(h.includes(s), `leaked ${s.slice(0, 3)}… into: ${h.slice(0, 200)}`).toBe(false);
}

/** The thrown value every way a caller might print or store it. */
function renderings(err: unknown): string[] {
  const e = err as VigilError;
  return [e.message, String(e), e.stack ?? '', JSON.stringify(e), JSON.stringify(e.details), inspect(e, { depth: 20, showHidden: true })];
}

describe('secrets in the Redfish agent', () => {
  let bmc: FakeBmc;
  beforeAll(async () => {
    bmc = await startFakeBmc({ offDelayMs: 20 });
  });
  afterAll(async () => bmc.close());

  for (const auth of ['basic', 'session'] as const) {
    it(`keeps a wrong password out of logs and errors (${auth} auth)`, async () => {
      const log = captureLog();
      const agent = new RedfishAgent({ url: bmc.url, username: 'admin', password: WRONG, auth, requestTimeoutMs: 2_000 }, fenceContext({ logger: log.logger }));
      const err = await rejectionOf(agent.fence({ host: 'web483' }));
      expect(err.code).toBe(ErrorCodes.FENCE_AUTH);
      expect(log.lines().length).toBeGreaterThan(0);
      expectClean([...log.lines(), ...renderings(err), JSON.stringify(agent), inspect(agent, { depth: 10 })], forms('admin', WRONG));
    });

    it(`keeps the right password and the session token out of logs on success (${auth} auth)`, async () => {
      const log = captureLog();
      const agent = new RedfishAgent({ url: bmc.url, username: 'admin', password: 'bmc-secret-pw', auth, pollIntervalMs: 10 }, fenceContext({ logger: log.logger }));
      const proof = await agent.fence({ host: 'web483' });
      expectClean([...log.lines(), JSON.stringify(proof), inspect(agent, { depth: 10 })], [...forms('admin', 'bmc-secret-pw'), ...bmc.sessions.issued]);
    });
  }
});

describe('secrets in the IPMI agent', () => {
  let sim: IpmiSim;
  beforeAll(async () => {
    sim = await startIpmiSim();
  });
  afterAll(async () => sim?.stop());

  it('keeps a wrong password out of logs and errors', async () => {
    const log = captureLog();
    const agent = new IpmiAgent(
      { address: '127.0.0.1', port: sim.port, username: sim.username, password: WRONG, cipherSuite: 3, lanTimeoutSeconds: 1, lanRetries: 1 },
      fenceContext({ logger: log.logger }),
    );
    const err = await rejectionOf(agent.fence({ host: 'esx-07' }));
    expect(err.code).toBe(ErrorCodes.FENCE_AUTH);
    expect(log.lines().length).toBeGreaterThan(0);
    expectClean([...log.lines(), ...renderings(err), JSON.stringify(agent), inspect(agent, { depth: 10 })], [WRONG]);
  });

  it('keeps the right password out of logs and the proof', async () => {
    const log = captureLog();
    sim.setPower(false);
    const agent = new IpmiAgent({ address: '127.0.0.1', port: sim.port, username: sim.username, password: sim.password, cipherSuite: 3 }, fenceContext({ logger: log.logger }));
    const proof = await agent.fence({ host: 'esx-07' });
    expectClean([...log.lines(), JSON.stringify(proof), inspect(agent, { depth: 10 })], [sim.password]);
  });
});
