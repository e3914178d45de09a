import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { builtinPath } from '../../src/paths.js';
import { loadConfigPolicies } from '../../src/policy/resolve.js';
import { assembleController } from '../../src/service/assemble.js';
import { reloadConfig, reloadPolicies } from '../../src/service/policy-reload.js';
import { tempDir } from '../helpers/tmp.js';

describe('policy reload', () => {
  it('takes a valid new set, and keeps the old one when the new one is invalid', async () => {
    const dir = tempDir({
      'vigil.yaml': `policies: ./policies\nclusters:\n  - {name: lab, provider: sim, inventory: ${builtinPath('examples/lab.yaml')}}\n`,
      'policies/p.yaml': 'kind: VmPolicy\nname: db\nmatch: {names: ["db-*"]}\nrestart: {priority: high}\n',
    });
    const config = await loadConfig(join(dir, 'vigil.yaml'));
    const clock = new FakeClock();
    const controller = await assembleController({ config, clock, logger: silentLogger(), policies: loadConfigPolicies(config), purpose: 'oneshot' });
    const db = { name: 'db-01', labels: {} };
    expect(controller.policies.vmRules('lab', db).priority).toBe('high');

    writeFileSync(join(dir, 'policies/p.yaml'), 'kind: VmPolicy\nname: db\nmatch: {names: ["db-*"]}\nrestart: {priority: low}\n');
    expect(reloadPolicies(controller, config, controller.decisions, clock.now())).toEqual({ ok: true, problems: [] });
    expect(controller.policies.vmRules('lab', db).priority).toBe('low');

    writeFileSync(join(dir, 'policies/p.yaml'), 'kind: VmPolicy\nname: db\nrestart: {priority: urgent}\n');
    const bad = reloadPolicies(controller, config, controller.decisions, clock.now());
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]).toMatch(/p\.yaml:3:21: restart\.priority: must be one of/);
    expect(controller.policies.vmRules('lab', db).priority).toBe('low');
    expect(controller.decisions.recent().at(-1)).toMatchObject({ kind: 'alert', subject: 'policies' });
    await controller.close();
  });
});

describe('config reload (SIGHUP)', () => {
  it('keeps the old config when the new one is invalid, and says a cluster change needs a restart', async () => {
    const lab = builtinPath('examples/lab.yaml');
    const dir = tempDir({
      'vigil.yaml': `policies: ./policies\nclusters:\n  - {name: lab, provider: sim, inventory: ${lab}}\n`,
      'policies/p.yaml': 'kind: VmPolicy\nname: db\nmatch: {names: ["db-*"]}\nrestart: {priority: high}\n',
    });
    const config = await loadConfig(join(dir, 'vigil.yaml'));
    const clock = new FakeClock();
    const controller = await assembleController({ config, clock, logger: silentLogger(), policies: loadConfigPolicies(config), purpose: 'oneshot' });

    writeFileSync(join(dir, 'vigil.yaml'), 'controller:\n  pollInterval: sometimes\nclusters: []\n');
    const bad = await reloadConfig(controller, config, controller.decisions, clock.now());
    expect(bad.ok).toBe(false);
    expect(bad.config).toBe(config);
    expect(bad.problems.join('\n')).toMatch(/vigil\.yaml:2:17: controller\.pollInterval: must be a duration/);

    writeFileSync(join(dir, 'vigil.yaml'), `policies: ./policies\nclusters:\n  - {name: lab, provider: sim, inventory: ${lab}}\n  - {name: lab2, provider: sim, inventory: ${lab}, cluster: lab}\n`);
    writeFileSync(join(dir, 'policies/p.yaml'), 'kind: VmPolicy\nname: db\nmatch: {names: ["db-*"]}\nrestart: {priority: lowest}\n');
    const changed = await reloadConfig(controller, config, controller.decisions, clock.now());
    expect(changed.ok).toBe(true);
    expect(controller.policies.vmRules('lab', { name: 'db-01', labels: {} }).priority).toBe('lowest');
    expect(controller.decisions.recent().some((d) => d.subject === 'config' && /restart vigil to apply it/.test(d.message))).toBe(true);
    expect(controller.decisions.recent().some((d) => /controller, state or alerts settings changed/.test(d.message))).toBe(false);

    // A controller setting (the poll interval) is not applied half-way: Vigil says a restart is needed.
    writeFileSync(join(dir, 'vigil.yaml'), `controller: {pollInterval: 3s}\npolicies: ./policies\nclusters:\n  - {name: lab, provider: sim, inventory: ${lab}}\n`);
    const slower = await reloadConfig(controller, changed.config, controller.decisions, clock.now());
    expect(slower.ok).toBe(true);
    expect(controller.decisions.recent().at(-2)).toMatchObject({ kind: 'alert', subject: 'config', message: expect.stringMatching(/controller, state or alerts settings changed: restart vigil/) });
    await controller.close();
  });
});
