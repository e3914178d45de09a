/**
 * The IPMI agent against a real peer: ipmitool talking IPMI 2.0 (RMCP+)
 * over loopback UDP to OpenIPMI's ipmi_sim (test/fence/ipmi-sim.ts), whose
 * power-off really stops a process standing in for the host. Short real
 * intervals; nothing asserts on speed.
 *
 * Two faults no real peer here produces (output ipmitool never prints) use
 * small stand-in executables written by the test, named as such below.
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { IpmiAgent, type IpmiAgentOptions } from '../../src/fence/ipmi.js';
import { captureLog, fenceContext, rejectionOf } from './helpers.js';
import { freeUdpPort, requireCommand, startIpmiSim, type IpmiSim } from './ipmi-sim.js';
import { tempDir } from '../helpers/tmp.js';

let sim: IpmiSim;
beforeAll(async () => {
  sim = await startIpmiSim();
});
afterAll(async () => sim?.stop());

function agent(extra: Partial<IpmiAgentOptions> = {}, logger = captureLog().logger): IpmiAgent {
  return new IpmiAgent(
    {
      address: '127.0.0.1',
      port: sim.port,
      username: sim.username,
      password: sim.password,
      cipherSuite: 3,
      lanTimeoutSeconds: 1,
      lanRetries: 1,
      commandTimeoutMs: 10_000,
      pollIntervalMs: 100,
      powerOffTimeoutMs: 10_000,
      ...extra,
    },
    fenceContext({ logger }),
  );
}

const target = { host: 'esx-07' };
const hostRunning = () => sim.host.exitCode === null && sim.host.signalCode === null;

describe('IpmiAgent against ipmi_sim', () => {
  beforeEach(() => {
    rmSync(join(sim.dir, 'stuck'), { force: true });
    writeFileSync(join(sim.dir, 'chassis.log'), '');
  });

  it('refuses wrong credentials with FENCE_AUTH, and the host keeps running', async () => {
    let err = await rejectionOf(agent({ password: 'not-the-password' }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_AUTH);
    expect(err.expected).toBe(true);
    expect(err.message).toBe(
      `ipmitool chassis power status on 127.0.0.1:${sim.port}: the BMC refused the credentials of user "fence" (> RAKP 2 HMAC is invalid; Error: Unable to establish IPMI v2 / RMCP+ session); check username and password, and that the user may control chassis power`,
    );
    err = await rejectionOf(agent({ username: 'nobody' }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_AUTH);
    expect(err.message).toContain('unauthorized name');
    expect(sim.chassisLog().some((l) => l.startsWith('set'))).toBe(false);
    expect(hostRunning()).toBe(true);
  });

  it('reports a cipher suite the BMC does not offer as FENCE_FAILED with what to change', async () => {
    const err = await rejectionOf(agent({ cipherSuite: 17 }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.expected).toBe(true);
    expect(err.message).toContain('set cipherSuite');
  });

  it('reads the power state', async () => {
    expect(await agent().powerState(target)).toBe('on');
  });

  it('powers the host off, polls until the status reads off, and the host process really stops', async () => {
    expect(hostRunning()).toBe(true);
    const exited = new Promise<void>((resolve) => sim.host.once('exit', () => resolve()));
    const proof = await agent().fence(target);
    expect(proof.agent).toBe('ipmi');
    expect(proof.evidence).toBe(`ipmitool chassis power status read "off" from 127.0.0.1:${sim.port} after chassis power off`);
    await exited;
    expect(hostRunning()).toBe(false);
    const log = sim.chassisLog();
    expect(log.filter((l) => l === 'set power 0')).toHaveLength(1);
    // Read once before, then at least once more while the chassis was still on: the agent polled.
    const afterOff = log.slice(log.indexOf('set power 0') + 1);
    expect(afterOff.filter((l) => l === 'get power').length).toBeGreaterThanOrEqual(2);
    expect(await agent().powerState(target)).toBe('off');
  });

  it('sends no power-off to a chassis that is already off', async () => {
    sim.setPower(false);
    const proof = await agent().fence(target);
    expect(proof.evidence).toBe(`ipmitool chassis power status read "off" from 127.0.0.1:${sim.port} (already off; no power-off sent)`);
    expect(sim.chassisLog()).toEqual(['get power']);
  });

  it('fails with FENCE_TIMEOUT and the last state when the chassis never powers off', async () => {
    sim.setPower(true);
    writeFileSync(join(sim.dir, 'stuck'), '');
    const err = await rejectionOf(agent({ powerOffTimeoutMs: 800 }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_TIMEOUT);
    expect(err.details.lastState).toBe('on');
    expect(err.message).toMatch(new RegExp(`^host esx-07: 127\\.0\\.0\\.1:${sim.port} still read "on" 800ms after chassis power off; the host is not proven off$`));
    expect(sim.chassisLog()).toContain('set power 0');
  });

  it('never puts the password in ipmitool\'s argv: it goes in IPMI_PASSWORD with -E', async () => {
    // A wrapper that records how it was called, then runs the real ipmitool.
    const dir = tempDir();
    const real = requireCommand('ipmitool', 'ipmitool');
    const wrapper = join(dir, 'ipmitool-recorder');
    writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> "${dir}/argv"\n[ -n "$IPMI_PASSWORD" ] && echo set >> "${dir}/env"\nexec "${real}" "$@"\n`);
    chmodSync(wrapper, 0o755);
    sim.setPower(false);
    await agent({ ipmitool: wrapper }).fence(target);
    const argv = readFileSync(join(dir, 'argv'), 'utf8');
    expect(argv).toContain(' -E ');
    expect(argv).toContain('-U fence');
    expect(argv).not.toContain(sim.password);
    expect(readFileSync(join(dir, 'env'), 'utf8').trim()).toBe('set');
  });
});

describe('IpmiAgent when the BMC cannot be reached', () => {
  it('fails with FENCE_UNREACHABLE when nothing answers on the port', async () => {
    const port = await freeUdpPort();
    const err = await rejectionOf(agent({ port }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_UNREACHABLE);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`ipmitool chassis power status on 127.0.0.1:${port}: cannot reach the BMC (`);
  });

  it('fails with FENCE_UNREACHABLE when ipmitool does not finish within commandTimeout', async () => {
    const port = await freeUdpPort();
    const err = await rejectionOf(agent({ port, lanTimeoutSeconds: 10, lanRetries: 5, commandTimeoutMs: 500 }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_UNREACHABLE);
    expect(err.message).toBe(`ipmitool chassis power status on 127.0.0.1:${port}: no answer within 500ms`);
  });

  it('fails with FENCE_UNREACHABLE when the BMC name does not resolve', async () => {
    const err = await rejectionOf(agent({ address: '{host}.invalid', port: undefined }).fence({ host: 'no-such-bmc' }));
    expect(err.code).toBe(ErrorCodes.FENCE_UNREACHABLE);
    expect(err.message).toContain('Address lookup for no-such-bmc.invalid failed');
  });

  it('fails with FENCE_FAILED, and says what to install, when ipmitool is missing', async () => {
    const err = await rejectionOf(agent({ ipmitool: '/nonexistent/ipmitool' }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.expected).toBe(true);
    expect(err.message).toBe('cannot run ipmitool as "/nonexistent/ipmitool" (ENOENT): install the ipmitool package, or set ipmitool to its path');
  });
});

describe('IpmiAgent parses ipmitool strictly (stand-in executables)', () => {
  /** STAND-IN, not ipmitool: prints what it is told, to produce output the real tool and peer never give. */
  function standIn(stdout: string, exit = 0): string {
    const dir = tempDir();
    const path = join(dir, 'ipmitool-stand-in');
    writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' '${stdout}'\nexit ${exit}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('takes nothing but "Chassis Power is on|off" for a status', async () => {
    for (const out of ['Chassis Power is unknown', 'Chassis Power is off?', '']) {
      const err = await rejectionOf(agent({ ipmitool: standIn(out) }).fence(target));
      expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
      expect(err.message).toBe(`unexpected output from ipmitool chassis power status on 127.0.0.1:${sim.port}: ${JSON.stringify(out || '(nothing)')}`);
    }
  });

  it('reports an unrecognised failure as FENCE_FAILED with ipmitool\'s words', async () => {
    const err = await rejectionOf(agent({ ipmitool: standIn('Set Chassis Power Control to Down/Off failed: Node busy', 1) }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_FAILED);
    expect(err.message).toBe(`ipmitool chassis power status on 127.0.0.1:${sim.port} failed (exit 1): Set Chassis Power Control to Down/Off failed: Node busy`);
  });
});
