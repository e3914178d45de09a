import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig, loadConfig, resolveConfigPath } from '../../src/config/load.js';
import { formatProblem } from '../../src/config/problems.js';
import { builtinPath } from '../../src/paths.js';
import { knownProviders } from '../../src/provider-registry.js';
import { tempDir } from '../helpers/tmp.js';

const lab = `clusters:\n  - name: lab\n    hosts: [{name: h1, cpu: 4, memoryGiB: 8}]\n`;

async function problems(text: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const dir = tempDir({ 'vigil.yaml': text, 'lab.yaml': lab, 'secret.txt': 's3cret\n' });
  const r = await checkConfig(join(dir, 'vigil.yaml'), false, { env, displayBase: dir });
  return r.problems.map(formatProblem);
}

describe('config loading', () => {
  it('loads the built-in lab config', async () => {
    const c = await loadConfig(builtinPath('examples/builtin.yaml'), true);
    expect(c.clusters.map((x) => [x.config.name, x.config.provider])).toEqual([['lab', 'sim']]);
    expect(c.controller.pollInterval).toBe(5_000);
  });

  it('falls back to the built-in lab when no file is given and ./vigil.yaml is absent', () => {
    const dir = tempDir();
    expect(resolveConfigPath(undefined, dir)).toEqual({ path: builtinPath('examples/builtin.yaml'), builtin: true });
    expect(resolveConfigPath('x.yaml', dir)).toEqual({ path: join(dir, 'x.yaml'), builtin: false });
  });

  it('points at an unknown provider, with a hint', async () => {
    // The list of known providers grows with each provider; the position, the name and the list's presence are what matter.
    expect(await problems(`clusters:\n  - name: a\n    provider: vspere\n`)).toEqual([
      `vigil.yaml:3:15: unknown provider "vspere" (did you mean "vsphere"?); known providers: ${knownProviders().join(', ')}`,
    ]);
    expect(await problems(`clusters:\n  - name: a\n    provider: simm\n`)).toEqual([`vigil.yaml:3:15: unknown provider "simm" (did you mean "sim"?); known providers: ${knownProviders().join(', ')}`]);
  });

  it('points at unknown keys with a did-you-mean hint, and bad values', async () => {
    const p = await problems(`controller:\n  pollInterva: 10s\n  mode: enforced\nclusters:\n  - name: lab\n    provider: sim\n    inventory: ./lab.yaml\n    listn: 127.0.0.1:1\n`);
    expect(p).toEqual([
      'vigil.yaml:3:9: controller.mode: must be one of "enforce", "observe"',
      'vigil.yaml:2:3: controller: unknown key "pollInterva" (did you mean "pollInterval"?)',
      'vigil.yaml:8:5: clusters[0]: unknown key "listn" (did you mean "listen"?)',
    ]);
  });

  it('reports a YAML syntax error at its position', async () => {
    const p = await problems(`clusters:\n  - name: a\n   provider: sim\n`);
    expect(p[0]).toMatch(/^vigil\.yaml:3:\d+: /);
  });

  it('substitutes ${env:...} and ${file:...}; a missing one is an error at its position, without the value', async () => {
    const dir = tempDir({ 'lab.yaml': lab, 'secret.txt': 's3cret\n' });
    const text = `controller:\n  stateDir: \${env:STATE}\nclusters:\n  - name: lab\n    provider: sim\n    inventory: \${file:inv-path.txt}\n`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'vigil.yaml'), text);
    writeFileSync(join(dir, 'inv-path.txt'), './lab.yaml\n');
    const ok = await checkConfig(join(dir, 'vigil.yaml'), false, { env: { STATE: '/var/lib/vigil' }, displayBase: dir });
    expect(ok.problems).toEqual([]);
    expect(ok.config?.controller.stateDir).toBe('/var/lib/vigil');
    expect(ok.config?.clusters[0]?.config.inventory).toBe('./lab.yaml');
    const missing = await checkConfig(join(dir, 'vigil.yaml'), false, { env: {}, displayBase: dir });
    expect(missing.problems.map(formatProblem)).toEqual(['vigil.yaml:2:13: environment variable STATE is not set']);
  });

  it('refuses two clusters with one name, and a sim entry with both inventory and url', async () => {
    expect(await problems(`clusters:\n  - {name: a, provider: sim}\n  - {name: a, provider: sim}\n`)).toEqual(['vigil.yaml:3:12: cluster "a" is named twice']);
    expect(await problems(`clusters:\n  - {name: a, provider: sim, inventory: x.yaml, url: "http://127.0.0.1:1"}\n`)).toEqual([
      'vigil.yaml:2:54: clusters[0].url: give either inventory (an in-process lab) or url (a served lab), not both',
    ]);
  });

  it('requires at least one cluster and an existing policy directory when one is named', async () => {
    expect(await problems(`clusters: []\n`)).toEqual(['vigil.yaml:1:11: clusters: name at least one cluster']);
    expect(await problems(`policies: ./nope\nclusters:\n  - {name: a, provider: sim}\n`)).toEqual(['vigil.yaml:1:11: policy directory ./nope not found']);
  });
});
