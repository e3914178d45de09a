/**
 * The fencing agents' config: what a vigil.yaml entry may say, what it
 * defaults to, how a mistake is reported (with its path, and never with a
 * secret), the factory, and which agents fence which host.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { agentsForHost, createFenceAgent, createFenceAgents, fenceAgentSchema, fencingAgentsSchema, hostMatches } from '../../src/fence/agent-config.js';
import { injectTransport } from '../../src/fence/inject-transport.js';
import { IpmiAgent } from '../../src/fence/ipmi.js';
import { RedfishAgent } from '../../src/fence/redfish.js';
import { loadInventoryFile } from '../../src/inventory/load.js';
import { builtinPath } from '../../src/paths.js';
import { Lab } from '../../providers/sim/lab.js';
import { buildLabServer } from '../../providers/sim/lab-server.js';
import { captureLog, fenceContext } from './helpers.js';

const SECRET = 'Zq8-very-secret-pw';

const YAML = `
- type: redfish
  name: rack-a BMCs
  hosts: ["esx-0?", "ESX-1*"]
  url: https://{host}-bmc.example.com
  username: fence
  password: ${SECRET}
  auth: session
  caFile: ./certs/bmc-ca.pem
  requestTimeout: 5s
  pollInterval: 2s
  powerOffTimeout: 90s
- type: ipmi
  hosts: ["hv-*"]
  address: "{address}"
  username: fence
  password: ${SECRET}
  cipherSuite: 17
  privilege: OPERATOR
  lanTimeout: 2s
  lanRetries: 2
- type: redfish
  url: http://127.0.0.1:9090/lab/redfish/{host}
  username: admin
  password: lab
`;

describe('fencing agent entries', () => {
  it('parses both types, with defaults', () => {
    const [rf, ipmi, lab] = fencingAgentsSchema.parse(parseYaml(YAML));
    expect(rf).toEqual({
      type: 'redfish',
      name: 'rack-a BMCs',
      hosts: ['esx-0?', 'ESX-1*'],
      url: 'https://{host}-bmc.example.com',
      username: 'fence',
      password: SECRET,
      auth: 'session',
      caFile: './certs/bmc-ca.pem',
      insecure: false,
      requestTimeout: 5_000,
      pollInterval: 2_000,
      powerOffTimeout: 90_000,
    });
    expect(ipmi).toEqual({
      type: 'ipmi',
      hosts: ['hv-*'],
      address: '{address}',
      username: 'fence',
      password: SECRET,
      ipmitool: 'ipmitool',
      interface: 'lanplus',
      cipherSuite: 17,
      privilege: 'OPERATOR',
      lanTimeout: 2_000,
      lanRetries: 2,
      commandTimeout: 20_000,
      pollInterval: 1_000,
      powerOffTimeout: 60_000,
    });
    expect(lab).toMatchObject({ hosts: ['*'], auth: 'basic', insecure: false, requestTimeout: 10_000, pollInterval: 1_000, powerOffTimeout: 60_000 });
  });

  const issues = (input: unknown) => {
    const r = fencingAgentsSchema.safeParse(input);
    if (r.success) throw new Error('expected a validation failure');
    return r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it('reports a missing endpoint or credentials with their position', () => {
    expect(issues([{ type: 'redfish', username: 'u', password: 'p' }])).toEqual([{ path: '0.url', message: expect.stringMatching(/string/) }]);
    expect(issues([{ type: 'ipmi', address: 'bmc1' }]).map((i) => i.path)).toEqual(['0.username', '0.password']);
    expect(issues([{ type: 'redfish', url: 'https://x', username: 'u', password: '' }])).toEqual([{ path: '0.password', message: 'is required' }]);
  });

  it('refuses unknown keys, unknown types, bad URLs and bad values', () => {
    expect(issues([{ type: 'redfish', url: 'https://x', username: 'u', password: 'p', pasword: 'typo' }])[0]?.message).toMatch(/pasword/);
    expect(issues([{ type: 'wol', url: 'https://x' }])[0]?.path).toBe('0.type');
    expect(issues([{ type: 'redfish', url: 'ftp://{host}', username: 'u', password: 'p' }])[0]).toEqual({ path: '0.url', message: expect.stringContaining('http:// or https://') });
    expect(issues([{ type: 'redfish', url: 'https://admin:pw@bmc', username: 'u', password: 'p' }])[0]?.path).toBe('0.url');
    expect(issues([{ type: 'redfish', url: 'https://x', username: 'u', password: 'p', powerOffTimeout: '60' }])[0]?.message).toMatch(/duration/);
    expect(issues([{ type: 'redfish', url: 'https://x', username: 'u', password: 'p', systemPath: 'Systems/1' }])[0]?.path).toBe('0.systemPath');
    expect(issues([{ type: 'ipmi', address: 'a b', username: 'u', password: 'p' }])[0]?.path).toBe('0.address');
    expect(issues([{ type: 'ipmi', address: 'bmc', username: 'u', password: 'p', cipherSuite: 99 }])[0]?.path).toBe('0.cipherSuite');
    expect(issues([{ type: 'redfish', url: 'https://x', username: 'u', password: 'p', hosts: [] }])[0]?.path).toBe('0.hosts');
  });

  it('refuses conflicting TLS options, and TLS options on an http URL', () => {
    expect(issues([{ type: 'redfish', url: 'https://x', username: 'u', password: 'p', insecure: true, caFile: 'ca.pem' }])).toEqual([
      { path: '0.insecure', message: 'use only one of caFile, fingerprint and insecure (found caFile and insecure)' },
    ]);
    expect(issues([{ type: 'redfish', url: 'http://x', username: 'u', password: 'p', fingerprint: 'ab'.repeat(32) }])).toEqual([{ path: '0.fingerprint', message: 'TLS options need an https:// url' }]);
    expect(issues([{ type: 'redfish', url: 'https://x', username: 'u', password: 'p', fingerprint: 'sha256:abc' }])[0]?.path).toBe('0.fingerprint');
  });

  it('never quotes a secret in a validation message', () => {
    const long = `${SECRET}-${SECRET}`;
    const r = fencingAgentsSchema.safeParse([{ type: 'ipmi', address: 'bmc', username: 'u', password: long, bogus: SECRET }]);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['0', '0.password']);
    expect(JSON.stringify(r.error?.issues)).not.toContain(SECRET);
    expect(r.error?.message).not.toContain(SECRET);
  });
});

describe('createFenceAgent and the agents for a host', () => {
  const entries = fencingAgentsSchema.parse(parseYaml(YAML.replace('caFile: ./certs/bmc-ca.pem', 'insecure: true')));

  it('builds the agent of each type, and keeps the password out of anything that serialises it', () => {
    const log = captureLog();
    const ctx = fenceContext({ logger: log.logger });
    const agents = entries.map((e) => createFenceAgent(e, ctx));
    expect(agents.map((a) => a.kind)).toEqual(['redfish', 'ipmi', 'redfish']);
    expect(agents[0]).toBeInstanceOf(RedfishAgent);
    expect(agents[1]).toBeInstanceOf(IpmiAgent);
    for (const a of agents) expect(JSON.stringify(a)).not.toContain(SECRET);
    // insecure: true is said out loud, once for that agent.
    expect(log.lines().filter((l) => l.includes('verification is OFF'))).toHaveLength(1);
  });

  it('picks the agents whose host globs match, in configuration order', () => {
    const configured = createFenceAgents(entries, fenceContext());
    expect(configured.map((c) => c.label)).toEqual(['rack-a BMCs', 'ipmi {address}', 'redfish http://127.0.0.1:9090/lab/redfish/{host}']);
    expect(agentsForHost(configured, 'esx-07').map((c) => c.label)).toEqual(['rack-a BMCs', 'redfish http://127.0.0.1:9090/lab/redfish/{host}']);
    expect(agentsForHost(configured, 'esx-10').map((c) => c.label)).toEqual(['rack-a BMCs', 'redfish http://127.0.0.1:9090/lab/redfish/{host}']);
    expect(agentsForHost(configured, 'hv-3').map((c) => c.label)).toEqual(['ipmi {address}', 'redfish http://127.0.0.1:9090/lab/redfish/{host}']);
    expect(agentsForHost(configured.slice(0, 2), 'pve-1')).toEqual([]);
  });

  it('matches host globs with * and ?, ignoring case, and nothing else as a pattern', () => {
    expect(hostMatches('esx-*', 'esx-01.dc1.example')).toBe(true);
    expect(hostMatches('esx-0?', 'ESX-01')).toBe(true);
    expect(hostMatches('esx-0?', 'esx-010')).toBe(false);
    expect(hostMatches('esx.01', 'esxa01')).toBe(false);
    expect(hostMatches('esx-[0-9]', 'esx-1')).toBe(false);
    expect(hostMatches('esx-[0-9]', 'esx-[0-9]')).toBe(true);
  });

  it('fences a lab host through an agent built from config, over the in-memory transport', async () => {
    const clock = new FakeClock();
    const lab = new Lab(loadInventoryFile(builtinPath('examples/lab.yaml')).inventory, clock);
    const app = buildLabServer(lab, clock);
    lab.partitionHost('esx-02');
    const entry = fenceAgentSchema.parse({ type: 'redfish', url: 'http://127.0.0.1:9090/lab/redfish/{host}', username: 'admin', password: 'lab' });
    const agent = createFenceAgent(entry, fenceContext({ clock }), injectTransport(app));
    const fencing = agent.fence({ host: 'esx-02' });
    await clock.advance(5_000);
    const proof = await fencing;
    expect(proof.evidence).toBe('PowerState Off at http://127.0.0.1:9090/lab/redfish/esx-02/redfish/v1/Systems/1 after ForceOff');
    expect([...lab.runningVms().values()]).not.toContain('esx-02');
    await app.close();
  });
});
