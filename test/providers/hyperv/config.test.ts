/** The hyperv cluster entry's keys, and `vigil validate` reporting their problems with positions. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import hypervProvider from '../../../providers/hyperv/index.js';
import { vigil } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const parse = (entry: Record<string, unknown>) => hypervProvider.configSchema.safeParse({ name: 'hv', provider: 'hyperv', ...entry });

describe('hyperv config', () => {
  it('accepts a cluster and standalone hosts, with defaults', () => {
    const c = parse({ cluster: 'HVC01' });
    expect(c.success && c.data).toMatchObject({ transport: 'wsman', useSsl: false, insecure: false, powershell: { executable: 'pwsh', invocationTimeout: 120_000 }, maintenance: { forceDrain: false, failback: 'NoFailback' } });
    expect(parse({ hosts: ['hvs1', 'hvs2'], sharedStorage: ['\\\\fs1\\vms'], transport: 'ssh', username: 'svc', keyFile: './k' }).success).toBe(true);
  });

  it.each([
    [{ cluster: 'HVC01', hosts: ['a'] }, 'either cluster'],
    [{}, 'either cluster'],
    [{ hosts: ['a'], nodes: ['b'] }, 'nodes apply to a cluster'],
    [{ cluster: 'HVC01', sharedStorage: ['\\\\fs\\x'] }, 'sharedStorage applies to standalone hosts'],
    [{ cluster: 'HVC01', password: 'x' }, 'a password needs a username'],
    [{ cluster: 'HVC01', transport: 'ssh', username: 'u', password: 'x' }, 'SSH remoting authenticates with keyFile'],
    [{ cluster: 'HVC01', insecure: true }, 'insecure only applies to useSsl'],
    [{ cluster: 'HV C01' }, 'a host or cluster name'],
    [{ hosts: ['a'], sharedStorage: ['C:\\vms'] }, 'a UNC path'],
  ])('refuses %j', (entry, message) => {
    const r = parse(entry);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(message);
  });

  it('vigil validate checks a hyperv entry and points at the problem', () => {
    const dir = tempDir({ 'vigil.yaml': 'clusters:\n  - name: prod\n    provider: hyperv\n    cluster: HVC01\n    transport: winrm\n' });
    const r = vigil(['validate', '--config', join(dir, 'vigil.yaml')], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/vigil\.yaml:5:\d+: .*transport/);
    const ok = tempDir({ 'vigil.yaml': 'clusters:\n  - name: prod\n    provider: hyperv\n    cluster: HVC01\n    username: CORP\\svc\n    password: ${env:HV_PASSWORD}\n' });
    expect(vigil(['validate', '--config', join(ok, 'vigil.yaml')], { cwd: ok, env: { HV_PASSWORD: 'x' } })).toMatchObject({ code: 0 });
  });
});
