import { readFileSync, writeFileSync } from 'node:fs';
import { builtinPath } from '../../src/paths.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { examples, vigil } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { knownProviders } from '../../src/provider-registry.js';

describe('vigil CLI', () => {
  it('prints help and exits 0', () => {
    const r = vigil(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['run', 'status', 'validate', 'demo', 'lab', 'migrate', 'evacuate', 'rebalance']) expect(r.stdout).toContain(cmd);
    expect(vigil(['lab', '--help']).stdout).toContain('fail-host');
  });

  it('exits 2 with a usage hint on an unknown command or option', () => {
    const cmd = vigil(['frobnicate']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("unknown command 'frobnicate'");
    expect(cmd.stderr).toContain("run 'vigil --help'");
    const opt = vigil(['status', '--frob']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("run 'vigil status --help'");
    expect(vigil(['lab', 'fail-host']).code).toBe(2);
  });

  it('status --json on an inventory file follows the contract', () => {
    const r = vigil(['status', '--inventory', examples('lab.yaml'), '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const c = report.clusters[0];
    expect(c).toMatchObject({ name: 'lab', frozen: false });
    expect(c.hosts[0]).toEqual(expect.objectContaining({ name: 'esx-01', state: 'connected', health: 'healthy', cpu: 32, memoryGiB: 256, vms: 5 }));
    expect(c.vms.find((v: { name: string }) => v.name === 'db-01')).toEqual(expect.objectContaining({ host: 'esx-01', power: 'on', cpu: 8, memoryGiB: 64, datastores: ['ds-shared'] }));
    expect(c.datastores[0]).toEqual(expect.objectContaining({ name: 'ds-shared', capacityGiB: 8192, freeGiB: 5120, accessible: true }));
  });

  it('status without --json prints a table', () => {
    const r = vigil(['status', '--inventory', examples('lab.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/HOST\s+│\s+STATE/);
    expect(r.stdout).toContain('esx-04');
  });

  it('a bad inventory is one line per problem with FILE:LINE:COL, and exit 1', () => {
    const dir = tempDir({ 'inv.yaml': 'clusters:\n  - name: c\n    hosts: [{name: h1, cpu: 4, memoryGiB: 8}]\n    vms: [{name: v, host: h9, cpu: 1, memoryGiB: 1}]\n' });
    const r = vigil(['status', '--inventory', 'inv.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('inv.yaml:4:27: unknown host "h9" in cluster "c" (known: h1)');
  });

  it('validate passes on the built-in lab and fails with positions on a bad config', () => {
    expect(vigil(['validate', '--config', examples('vigil.yaml')])).toMatchObject({ code: 0 });
    const dir = tempDir({ 'vigil.yaml': 'clusters:\n  - name: a\n    provider: vmware\n' });
    const r = vigil(['validate', '--config', join(dir, 'vigil.yaml')], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout.trim()).toBe(`vigil.yaml:3:15: unknown provider "vmware"; known providers: ${knownProviders().join(', ')}`);
  });

  it('run refuses a bad config with exit 1 and starts nothing', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'vigil.yaml'), 'controller:\n  pollInterval: often\nclusters:\n  - {name: a, provider: sim}\n');
    const r = vigil(['run'], { cwd: dir, timeoutMs: 10_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('vigil.yaml:2:17: controller.pollInterval: must be a duration such as 500ms, 10s or 2m');
  });

  it('simulate --json follows the contract: every restartable VM of a failed host once, in actions or unplaced', () => {
    const r = vigil(['simulate', '--fail', 'esx-01,esx-03', '--inventory', examples('lab.yaml'), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.failed).toEqual(['esx-01', 'esx-03']);
    expect(out.actions[0]).toEqual(expect.objectContaining({ type: 'restart', vm: 'db-01', cluster: 'lab', from: 'esx-01', to: 'esx-04', priority: 'high', wave: 1 }));
    const listed = [...out.actions.map((a: { vm: string }) => a.vm), ...out.unplaced.map((u: { vm: string }) => u.vm)].sort();
    // On esx-01 and esx-03, running and not disabled by policy (dev-02 is off; batch-04 is off).
    expect(listed).toEqual(['app-01', 'app-03', 'batch-01', 'db-01', 'db-03', 'web-01', 'web-03', 'web-05']);
    expect(out.unplaced).toEqual([expect.objectContaining({ vm: 'db-03', from: 'esx-03', reason: '2 hosts are failed, 2 hosts break anti-affinity group db' })]);
  });

  it('simulate refuses an unknown host with exit 1 and its name', () => {
    const r = vigil(['simulate', '--fail', 'esx-1', '--inventory', examples('lab.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: unknown host "esx-1" (did you mean "esx-01"?)');
    expect(vigil(['simulate', '--inventory', examples('lab.yaml')]).code).toBe(2);
  });

  it('capacity reports failures tolerated, and exits 1 when a cluster is below its policy', () => {
    const ok = vigil(['capacity', '--inventory', examples('lab.yaml'), '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).clusters[0]).toMatchObject({ cluster: 'lab', tolerates: 1, required: 1, method: 'exact', ok: true });
    // The shipped policies, plus a stricter admission rule read after them.
    const shipped = Object.fromEntries(['cluster.yaml', 'databases.yaml', 'workloads.yaml'].map((f) => [`p/${f}`, readFileSync(builtinPath('policies', f), 'utf8')]));
    const dir = tempDir({ ...shipped, 'p/zz-strict.yaml': 'kind: ClusterPolicy\nadmission: {tolerateHostFailures: 2}\n' });
    const short = vigil(['capacity', '--inventory', examples('lab.yaml'), '--policies', join(dir, 'p')]);
    expect(short.code).toBe(1);
    expect(short.stdout).toMatch(/^lab: tolerates 1 host failure \(policy wants 2, exact\); if esx-01 \+ esx-02 failed/);
  });

  it('validate --inventory warns about names the policies use that do not exist', () => {
    const dir = tempDir({ 'p/x.yaml': 'kind: VmPolicy\nname: x\nmatch: {names: ["sql-*"]}\n' });
    const r = vigil(['validate', '--policies', join(dir, 'p'), '--inventory', examples('lab.yaml')], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('p/x.yaml:3:17: warning: no VM matches "sql-*"');
    expect(r.stdout).toContain('ok: no errors, 1 warning(s)');
  });

  it('lab commands say clearly when no lab answers', () => {
    const r = vigil(['lab', 'fail-host', 'esx-01', '--url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not answer');
  });

  it('the demo shows a failover and ends by itself', () => {
    const r = vigil(['demo', '--speed', '200'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('host esx-02 fails');
    expect(r.stdout).toContain('suspect -> failed');
    expect(r.stdout).toMatch(/db-02\s+│\s+high\s+│\s+esx-02\s+│\s+esx-0[134]/);
    expect(r.stdout).toContain('0 errors; no VM ran twice');
    // ...and ends with a host evacuated through the running controller.
    expect(r.stdout).toMatch(/esx-0\d is in maintenance: placement no longer uses it/);
  });
});
