/** vsphere cluster entries in vigil.yaml: what is checked, with positions, and secrets kept out of messages. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../../src/config/load.js';
import { formatProblem } from '../../../src/config/problems.js';
import { sdkUrl } from '../../../providers/vsphere/index.js';
import { normalizeThumbprint } from '../../../providers/vsphere/tls.js';
import { tempDir } from '../../helpers/tmp.js';

async function check(entry: string, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir({ 'vigil.yaml': `clusters:\n  - name: vc\n    provider: vsphere\n${entry}` });
  return checkConfig(join(dir, 'vigil.yaml'), false, { env, displayBase: dir });
}

describe('vsphere configuration', () => {
  it('accepts a full entry with the password from the environment', async () => {
    const r = await check('    url: https://vcenter.example\n    username: svc@vsphere.local\n    password: ${env:VC_PASS}\n    datacenter: DC1\n    cluster: C1\n    thumbprint: ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01\n    timeout: 30s\n', { VC_PASS: 'pw-from-env' });
    expect(r.problems).toEqual([]);
    const c = r.config?.clusters[0]?.config as Record<string, unknown>;
    expect(c).toMatchObject({ password: 'pw-from-env', timeout: 30_000, insecure: false, fullReadInterval: 900_000, pageSize: 5_000 });
    expect(sdkUrl(c.url as string)).toBe('https://vcenter.example/sdk');
    expect(normalizeThumbprint(c.thumbprint as string)).toBe('AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01');
  });

  it('reports each problem at its position', async () => {
    const r = await check('    url: vcenter.example\n    username: svc\n    password: pw\n    thumbprint: 12:34\n    insecure: true\n    caFile: ./ca.pem\n    colour: blue\n');
    const lines = r.problems.map(formatProblem);
    expect(lines.some((l) => /^vigil\.yaml:4:10: .*url/.test(l))).toBe(true);
    expect(lines.some((l) => /^vigil\.yaml:7:17: .*SHA-1 \(40 hex digits\) or SHA-256/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('colour'))).toBe(true);
    expect(lines.join('\n')).not.toContain('pw');
  });

  it('refuses insecure together with a CA file, and a missing password', async () => {
    const both = (await check('    url: https://vc\n    username: u\n    password: p\n    insecure: true\n    caFile: ca.pem\n')).problems.map(formatProblem);
    expect(both.join('\n')).toContain('insecure: true turns verification off; do not combine it with caFile or thumbprint');
    const inUrl = (await check('    url: https://svc:hunter2@vc/sdk\n    username: u\n    password: p\n')).problems.map(formatProblem);
    expect(inUrl.join('\n')).toContain('not in the URL');
    expect(inUrl.join('\n')).not.toContain('hunter2');
    const none = (await check('    url: https://vc\n    username: u\n')).problems.map(formatProblem);
    expect(none.join('\n')).toContain('password');
  });
});
