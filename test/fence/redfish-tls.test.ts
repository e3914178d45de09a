/**
 * TLS to a BMC, with a self-signed certificate made for the test: refused
 * by default, trusted through caFile, through a pinned SHA-256 fingerprint,
 * or with insecure (and a warning). A refused BMC never sees a request, so
 * never sees the credentials.
 */
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedfishAgent, type RedfishAgentOptions } from '../../src/fence/redfish.js';
import { ErrorCodes } from '../../src/errors.js';
import { startFakeBmc, type FakeBmc } from './redfish-bmc.js';
import { captureLog, fenceContext, rejectionOf } from './helpers.js';
import { selfSigned, type TestCert } from './certs.js';

const target = { host: 'web483' };
let cert: TestCert;
let other: TestCert;
let bmc: FakeBmc;

beforeAll(async () => {
  cert = selfSigned('bmc');
  other = selfSigned('someone-else', cert.dir);
  // Off already: these tests are about the channel, not the power-off.
  bmc = await startFakeBmc({ https: { key: cert.key, cert: cert.cert }, initialPower: 'Off' });
});
afterAll(async () => bmc.close());

function agent(extra: Partial<RedfishAgentOptions>, logger = captureLog().logger): RedfishAgent {
  return new RedfishAgent(
    { url: bmc.url, username: 'admin', password: 'bmc-secret-pw', requestTimeoutMs: 2_000, pollIntervalMs: 25, powerOffTimeoutMs: 2_000, ...extra },
    fenceContext({ logger, baseDir: cert.dir }),
  );
}

describe('RedfishAgent over HTTPS', () => {
  it('refuses a self-signed certificate by default, before sending anything', async () => {
    const before = bmc.requests.length;
    const err = await rejectionOf(agent({}).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_UNREACHABLE);
    expect(err.expected).toBe(true);
    expect(err.retryable).toBe(false);
    expect(err.details.cause).toBe('tls');
    expect(err.message).toContain(`GET ${bmc.url}/redfish/v1: TLS verification failed`);
    expect(err.message).toContain('set caFile');
    expect(bmc.requests.length).toBe(before);
  });

  it('trusts the BMC through caFile (relative to the config directory)', async () => {
    const proof = await agent({ tls: { caFile: basename(cert.certFile) } }).fence(target);
    expect(proof.evidence).toContain(`PowerState Off at ${bmc.url}/redfish/v1/Systems/437XR1138R2`);
  });

  it('refuses the BMC when caFile holds another CA', async () => {
    const err = await rejectionOf(agent({ tls: { caFile: other.certFile } }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_UNREACHABLE);
    expect(err.details.cause).toBe('tls');
  });

  it('trusts the BMC through its pinned SHA-256 fingerprint, in either spelling', async () => {
    expect((await agent({ tls: { fingerprint: cert.fingerprint } }).fence(target)).evidence).toContain('PowerState Off');
    const plain = cert.fingerprint.replace(/:/g, '').toLowerCase();
    expect((await agent({ tls: { fingerprint: plain } }).fence(target)).evidence).toContain('PowerState Off');
  });

  it('refuses a certificate that does not match the pinned fingerprint, before sending anything', async () => {
    const before = bmc.requests.length;
    const err = await rejectionOf(agent({ tls: { fingerprint: other.fingerprint } }).fence(target));
    expect(err.code).toBe(ErrorCodes.FENCE_UNREACHABLE);
    expect(err.details.cause).toBe('tls');
    expect(err.message).toContain('does not match the pinned fingerprint');
    expect(bmc.requests.length).toBe(before);
  });

  it('accepts anything with insecure: true, and warns once per agent', async () => {
    const log = captureLog();
    const a = agent({ tls: { insecure: true } }, log.logger);
    await a.fence(target);
    await a.fence(target);
    const warnings = log.lines().filter((l) => l.includes('verification is OFF'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!).level).toBe(40);
  });

  it('refuses conflicting TLS options and an unreadable caFile when the agent is built', () => {
    expect(() => agent({ tls: { insecure: true, fingerprint: cert.fingerprint } })).toThrow(/use one of caFile, fingerprint or insecure/);
    expect(() => agent({ tls: { caFile: 'missing.pem' } })).toThrow(/cannot read caFile .*missing\.pem: ENOENT/);
    expect(() => agent({ tls: { fingerprint: 'abc' } })).toThrow(/64 hex digits/);
  });
});
