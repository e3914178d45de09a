/**
 * `vigil migrate`, `evacuate` and `rebalance` end to end, against the lab
 * as its own process (`vigil lab serve`), as an operator runs them: alone
 * (the CLI takes the state lock and acts), and through a running `vigil
 * run` (the plan goes through the service's journal). The lab's own log is
 * the judge of what really happened.
 */
import axios from 'axios';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, freePort, vigil, vigilProcess, waitFor } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** h1 carries ten running VMs (and one powered off); h4 is the dedicated failover host; h5 is in maintenance. */
const INVENTORY = `clusters:
  - name: lab
    hosts:
      - {name: h1, cpu: 32, memoryGiB: 256, labels: {rack: r1}}
      - {name: h2, cpu: 32, memoryGiB: 256, labels: {rack: r1}}
      - {name: h3, cpu: 32, memoryGiB: 256, labels: {rack: r2}}
      - {name: h4, cpu: 32, memoryGiB: 256, labels: {rack: r2}}
      - {name: h5, cpu: 32, memoryGiB: 256, labels: {rack: r2}, state: maintenance}
    datastores:
      - {name: ds, capacityGiB: 4096, freeGiB: 2048, hosts: [h1, h2, h3, h4, h5]}
    vms:
${Array.from({ length: 8 }, (_, i) => `      - {name: app-${i + 1}, host: h1, cpu: 2, memoryGiB: 16, datastores: [ds]}`).join('\n')}
      - {name: db-1, host: h1, cpu: 4, memoryGiB: 32, datastores: [ds]}
      - {name: web-1, host: h1, cpu: 2, memoryGiB: 8, datastores: [ds]}
      - {name: old-1, host: h1, cpu: 2, memoryGiB: 8, power: off, datastores: [ds]}
      - {name: db-2, host: h2, cpu: 4, memoryGiB: 32, datastores: [ds]}
      - {name: web-2, host: h3, cpu: 2, memoryGiB: 8, datastores: [ds]}
`;

const POLICIES = `kind: ClusterPolicy
admission: {failoverHosts: [h4]}
---
kind: VmPolicy
name: db
match: {names: ["db-*"]}
placement: {antiAffinityGroup: db}
`;

interface LabEntry {
  readonly op: string;
  readonly vm?: string;
  readonly host?: string;
  readonly from?: string;
  readonly to?: string;
  readonly error?: string;
}

interface InventoryVm {
  readonly name: string;
  readonly host: string;
  readonly memoryGiB: number;
  readonly power: string;
  readonly runtime: { running: boolean };
}

const children: ReturnType<typeof vigilProcess>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** The lab in its own process; `speed` is how much faster than real time it runs. */
async function servedLab(speed = 20) {
  const [labPort, apiPort] = [await freePort(), await freePort()];
  const dir = tempDir({ 'inventory.yaml': INVENTORY, 'policies/p.yaml': POLICIES });
  const labUrl = `http://127.0.0.1:${labPort}`;
  const lab = vigilProcess(['lab', 'serve', '--inventory', join(dir, 'inventory.yaml'), '--listen', `127.0.0.1:${labPort}`, '--speed', String(speed)]);
  children.push(lab);
  await waitFor('the lab', async () => (await axios.get(`${labUrl}/lab/inventory`)).data);
  const config = join(dir, 'vigil.yaml');
  writeFileSync(
    config,
    `controller:\n  pollInterval: 300ms\n  listen: 127.0.0.1:${apiPort}\n  stateDir: ./state\n  execution: {taskPollInterval: 100ms}\npolicies: ./policies\nclusters:\n  - name: lab\n    provider: sim\n    url: ${labUrl}\n`,
  );
  const run = (args: string[], timeoutMs = 60_000) => vigil([...args, '--config', config], { cwd: dir, timeoutMs });
  const log = async (): Promise<LabEntry[]> => {
    const text = (await axios.get<string>(`${labUrl}/lab/log`, { responseType: 'text' })).data;
    return text.trim() ? text.trim().split('\n').map((l) => JSON.parse(l) as LabEntry) : [];
  };
  const inventory = async () => {
    const c = (await axios.get(`${labUrl}/lab/inventory`)).data.clusters[0] as { hosts: { name: string; state: string }[]; vms: InventoryVm[] };
    return { hosts: new Map(c.hosts.map((h) => [h.name, h.state])), vms: c.vms };
  };
  const journal = (): { type: string; action?: { type: string; vm?: string }; ok?: boolean }[] => {
    const file = join(dir, 'state', 'journal.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{"rec"'))
      .map((l) => (JSON.parse(l) as { rec: { type: string } }).rec);
  };
  return { dir, config, labUrl, apiPort, run, log, inventory, journal };
}

/** `vigil ...` in the background; resolves with its exit code and output. */
function runAsync(args: string[], lab: { config: string; dir: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--config', lab.config], { cwd: lab.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('vigil evacuate, migrate and rebalance against vigil lab serve', () => {
  it('evacuates a host with ten VMs: every one moves, the host ends in maintenance, the lab log agrees; --undo brings it back', async () => {
    const lab = await servedLab();
    const r = lab.run(['evacuate', 'h1', '--yes']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Plan: evacuate h1: 10 live migrations, then enter maintenance');
    expect(r.stdout).toContain('carried out by this command (no controller answers at');
    expect(r.stdout).toContain('Note: 1 VM not running stays registered on h1: old-1 (off)');
    expect(r.stdout).toMatch(/Done: evacuate h1: 10 live migrations, then enter maintenance\n {2}11 of 11 action\(s\) succeeded, 0 failed, 0 not started/);
    // Not a terminal: one plain line per event.
    expect(r.stdout.split('\n').filter((l) => /^\s+\+\d+\.\ds started\s+live-migrate /.test(l))).toHaveLength(10);

    const log = await lab.log();
    const moves = log.filter((e) => e.op === 'migrate');
    expect(moves.map((e) => e.vm).sort()).toEqual(['app-1', 'app-2', 'app-3', 'app-4', 'app-5', 'app-6', 'app-7', 'app-8', 'db-1', 'web-1']);
    expect(moves.every((e) => e.from === 'h1' && !e.error && e.to !== 'h4' && e.to !== 'h5')).toBe(true);
    expect(log.at(-1)).toMatchObject({ op: 'enter-maintenance', host: 'h1' });
    expect(log.filter((e) => e.error)).toEqual([]);
    const inv = await lab.inventory();
    expect(inv.hosts.get('h1')).toBe('maintenance');
    expect(inv.vms.filter((v) => v.host === 'h1').map((v) => v.name)).toEqual(['old-1']);
    expect(inv.vms.find((v) => v.name === 'db-1')?.host).not.toBe(inv.vms.find((v) => v.name === 'db-2')?.host);
    // The CLI acted alone, so it journaled in the state directory as the service would have.
    const records = lab.journal();
    expect(records.filter((x) => x.type === 'intent')).toHaveLength(11);
    expect(records.filter((x) => x.type === 'outcome' && x.ok)).toHaveLength(11);

    const again = lab.run(['evacuate', 'h1', '--yes']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe("error: cannot evacuate h1: it is already in maintenance ('vigil evacuate --undo h1' takes it out)");
    const undo = lab.run(['evacuate', 'h1', '--undo', '--yes']);
    expect(undo.code).toBe(0);
    expect(undo.stdout).toContain('Done: take h1 out of maintenance');
    expect((await lab.log()).at(-1)).toMatchObject({ op: 'exit-maintenance', host: 'h1' });
    expect((await lab.inventory()).hosts.get('h1')).toBe('connected');
  }, 90_000);

  it('a migration that fails half-way gives exit 3 and a truthful summary; the host stays out of maintenance', async () => {
    const lab = await servedLab();
    expect(vigil(['lab', 'fail-migration', 'app-3', '--url', lab.labUrl]).code).toBe(0);
    const r = lab.run(['evacuate', 'h1', '--yes']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('Partly done: evacuate h1: 10 live migrations, then enter maintenance\n  9 of 11 action(s) succeeded, 1 failed, 1 not started');
    expect(r.stdout).toMatch(/Failed:\n {2}live-migrate app-3 h1 -> (h2|h3): migration of app-3 to (h2|h3) failed half-way \(injected fault\); it still runs on h1\n/);
    expect(r.stdout).toContain('Not started:\n  enter maintenance on h1: held: 1 action(s) before it failed');
    expect(r.stdout).toContain('h1 was NOT put into maintenance.');
    const inv = await lab.inventory();
    expect(inv.hosts.get('h1')).toBe('connected');
    expect(inv.vms.find((v) => v.name === 'app-3')).toMatchObject({ host: 'h1', runtime: { running: true } });
    const log = await lab.log();
    expect(log.filter((e) => e.op === 'migrate' && !e.error)).toHaveLength(9);
    expect(log.filter((e) => e.error).map((e) => e.vm)).toEqual(['app-3']);
    expect(log.some((e) => e.op === 'enter-maintenance')).toBe(false);
    const outcomes = lab.journal().filter((x) => x.type === 'outcome');
    expect(outcomes.filter((x) => x.ok)).toHaveLength(9);
    expect(outcomes.filter((x) => !x.ok)).toHaveLength(1);
  }, 90_000);

  it('through a running service: the plan goes through its journal; a failure gives exit 3; running again finishes the work', async () => {
    const lab = await servedLab();
    const service = vigilProcess(['run', '--config', lab.config], { cwd: lab.dir });
    children.push(service);
    const status = async () => (await axios.get(`http://127.0.0.1:${lab.apiPort}/api/v1/status`)).data;
    await waitFor('the first poll', async () => ((await status()).clusters[0].lastPoll ? true : undefined));

    expect(vigil(['lab', 'fail-migration', 'web-1', '--url', lab.labUrl]).code).toBe(0);
    const first = lab.run(['evacuate', 'h1', '--yes', '--json']);
    expect(first.code).toBe(3);
    expect(first.stderr).toMatch(/failed\s+live-migrate web-1 h1 -> h\d failed: migration of web-1/);
    const out = JSON.parse(first.stdout) as { plans: { title: string }[]; results: { succeeded: number; failed: number; notStarted: number; moves: { action: { type: string; vm?: string }; state: string }[] }[] };
    expect(out.results[0]).toMatchObject({ succeeded: 9, failed: 1, notStarted: 1 });
    expect(out.results[0]?.moves.find((m) => m.state === 'failed')?.action.vm).toBe('web-1');

    const second = lab.run(['evacuate', 'h1', '--yes']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`carried out by the controller at http://127.0.0.1:${lab.apiPort}`);
    expect(second.stdout).toContain('Plan: evacuate h1: 1 live migration, then enter maintenance');
    expect(second.stdout).toContain('2 of 2 action(s) succeeded');
    expect((await lab.inventory()).hosts.get('h1')).toBe('maintenance');

    // The service acted: its decisions name the plans, and its journal holds every action (read once it has stopped).
    const recent = (await status()).clusters[0].recent as { kind: string; subject: string; data?: { plan?: string } }[];
    expect(recent.some((d) => d.kind === 'action-succeeded' && d.subject === 'h1' && /^plan-/.test(d.data?.plan ?? ''))).toBe(true);
    service.kill('SIGTERM');
    await waitFor('the service to stop', async () => (service.exitCode === null ? undefined : service.exitCode));
    expect(service.exitCode).toBe(0);
    const intents = lab.journal().filter((x) => x.type === 'intent');
    expect(intents.filter((x) => x.action?.type === 'migrate')).toHaveLength(11);
    expect(intents.filter((x) => x.action?.type === 'maintenance')).toHaveLength(1);
    expect((await lab.log()).filter((e) => e.op === 'migrate' && !e.error)).toHaveLength(10);
  }, 90_000);

  it('rebalance evens out an unbalanced lab and breaks no policy', async () => {
    const lab = await servedLab();
    const spread = (vms: InventoryVm[], hosts: string[]) => {
      const use = hosts.map((h) => vms.filter((v) => v.host === h && v.power === 'on').reduce((s, v) => s + v.memoryGiB, 0) / 256);
      const mean = use.reduce((s, x) => s + x, 0) / use.length;
      return 100 * Math.sqrt(use.reduce((s, x) => s + (x - mean) ** 2, 0) / use.length);
    };
    const before = spread((await lab.inventory()).vms, ['h1', 'h2', 'h3']);
    const dry = lab.run(['rebalance', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run: nothing changed.');
    expect(await lab.log()).toEqual([]);

    const r = lab.run(['rebalance', '--yes', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { plans: { spread: { before: { memory: number }; after: { memory: number } }; phases: { vm: string; to: string }[][] }[]; results: { succeeded: number; failed: number }[] };
    const moves = out.plans[0]?.phases.flat() ?? [];
    expect(moves.length).toBeGreaterThan(0);
    expect(moves.length).toBeLessThanOrEqual(10);
    expect(out.results[0]).toMatchObject({ succeeded: moves.length, failed: 0 });
    const inv = await lab.inventory();
    const after = spread(inv.vms, ['h1', 'h2', 'h3']);
    expect(after).toBeLessThan(before / 2);
    expect(out.plans[0]?.spread.after.memory).toBeCloseTo(after, 0);
    // No policy broken: the failover host and the host in maintenance stay empty; the databases apart.
    expect(inv.vms.filter((v) => v.host === 'h4' || v.host === 'h5')).toEqual([]);
    expect(inv.vms.find((v) => v.name === 'db-1')?.host).not.toBe(inv.vms.find((v) => v.name === 'db-2')?.host);
    expect((await lab.log()).filter((e) => e.error)).toEqual([]);
    // Balanced now: a second run moves nothing.
    const again = lab.run(['rebalance', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to do.');
  }, 90_000);

  it('bad input: a clear message, exit 1, nothing moved; no terminal and no --yes: exit 2', async () => {
    const lab = await servedLab();
    const cases: [string[], number, string][] = [
      [['migrate', 'app-9', '--to', 'h2', '--yes'], 1, 'error: unknown VM "app-9" (did you mean "app-1"?)'],
      [['migrate', 'db-1', '--to', 'h2', '--yes'], 1, 'error: cannot migrate db-1 to h2: h2 breaks anti-affinity group db (db-2 runs there)'],
      [['migrate', 'app-1', '--to', 'h4', '--yes'], 1, 'error: cannot migrate app-1 to h4: h4 is a dedicated failover host'],
      [['migrate', 'app-1', '--to', 'h5', '--yes'], 1, 'error: cannot migrate app-1 to h5: h5 is in maintenance'],
      [['evacuate', 'h9', '--yes'], 1, 'error: unknown host "h9" (did you mean "h1"?)'],
      [['evacuate', 'h5', '--yes'], 1, "error: cannot evacuate h5: it is already in maintenance ('vigil evacuate --undo h5' takes it out)"],
      [['evacuate', 'h2', '--undo', '--yes'], 1, 'error: cannot take h2 out of maintenance: it is not in maintenance (the manager reports it connected)'],
      [['evacuate', 'h1'], 2, 'error: stdin is not a terminal, so there is no one to ask: pass --yes to carry out the plan, or --dry-run to only show it'],
      [['evacuate', 'h1', '--force', '--undo'], 2, 'error: --force and --undo do not go together'],
    ];
    // Side by side, each with its own state directory (each command alone takes the lock of its own).
    const configs = cases.map((_, i) => {
      const file = join(lab.dir, `vigil-${i}.yaml`);
      writeFileSync(file, readFileSync(lab.config, 'utf8').replace('stateDir: ./state', `stateDir: ./state-${i}`));
      return file;
    });
    const results = await Promise.all(cases.map(([args], i) => runAsync(args, { config: configs[i] as string, dir: lab.dir })));
    cases.forEach(([args, code, message], i) => {
      expect({ args, code: results[i]?.code, stderr: results[i]?.stderr.split('\n')[0] }).toEqual({ args, code, stderr: message });
    });
    expect(await lab.log()).toEqual([]);
  }, 90_000);

  it('Ctrl-C stops starting new moves, lets the running one finish, and prints a summary', async () => {
    // Slower, so that the first migration (db-1, 34 s of lab time) is still running when Ctrl-C arrives.
    const lab = await servedLab(10);
    const child = vigilProcess(['evacuate', 'h1', '--yes', '--max-parallel', '1', '--config', lab.config], { cwd: lab.dir });
    children.push(child);
    await waitFor('the first migration to start', async () => (/started\s+live-migrate/.test(child.output()) ? true : undefined));
    child.kill('SIGINT');
    await waitFor('the command to end', async () => (child.exitCode === null ? undefined : child.exitCode));
    const out = child.output();
    expect(child.exitCode).toBe(3);
    expect(out).toContain('Stopping: no new action starts; waiting for the running ones to finish');
    const done = /Partly done: evacuate h1: 10 live migrations, then enter maintenance\n {2}(\d+) of 11 action\(s\) succeeded, 0 failed, (\d+) not started \(stopped by the operator\)/.exec(out);
    expect(done).not.toBeNull();
    const succeeded = Number(done?.[1]);
    expect(succeeded).toBeGreaterThanOrEqual(1);
    expect(succeeded + Number(done?.[2])).toBe(11);
    expect(out).toContain('h1 was NOT put into maintenance.');
    const log = await lab.log();
    // The one running when Ctrl-C came finished; nothing started after it.
    expect(log.filter((e) => e.op === 'migrate')).toHaveLength(succeeded);
    expect(succeeded).toBeLessThan(10);
    expect(log.filter((e) => e.error)).toEqual([]);
    // The lock was released: the next command can act.
    expect(lab.run(['evacuate', 'h1', '--dry-run']).code).toBe(0);
  }, 90_000);

  it('a second Ctrl-C leaves at once; the next command settles what was left open from what the lab shows', async () => {
    // Slower, so that the first migration (db-1, 34 s of lab time) outlives the command.
    const lab = await servedLab(5);
    const child = vigilProcess(['evacuate', 'h1', '--yes', '--max-parallel', '1', '--config', lab.config], { cwd: lab.dir });
    children.push(child);
    await waitFor('the first migration to start', async () => (/started\s+live-migrate/.test(child.output()) ? true : undefined));
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    await waitFor('the command to end', async () => (child.exitCode === null ? undefined : child.exitCode));
    expect(child.exitCode).toBe(3);
    expect(child.output()).toContain('Leaving now: actions already started run on to their end on the platform.');
    expect(lab.journal().filter((x) => x.type === 'intent')).toHaveLength(1);
    expect(lab.journal().filter((x) => x.type === 'outcome')).toHaveLength(0);
    // The platform finishes the migration by itself.
    const moved = await waitFor('the migration to end in the lab', async () => (await lab.log()).find((e) => e.op === 'migrate'), 30_000);
    const next = lab.run(['evacuate', 'h1', '--dry-run', '--json']);
    expect(next.code).toBe(0);
    const plan = (JSON.parse(next.stdout) as { plans: { title: string; blocked: unknown[]; phases: { vm?: string }[][] }[] }).plans[0];
    expect(plan?.title).toBe('evacuate h1: 9 live migrations, then enter maintenance');
    expect(plan?.blocked).toEqual([]);
    expect(plan?.phases[0]?.map((a) => a.vm)).not.toContain(moved.vm);
    const settled = lab.journal().filter((x) => x.type === 'outcome');
    expect(settled).toEqual([expect.objectContaining({ ok: true, message: expect.stringMatching(/^its task task-\d+ succeeded \(settled by a later command\)$/) })]);
  }, 90_000);
});
