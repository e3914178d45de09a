/**
 * The process-level crash test (issue 5): the lab as its own process,
 * `vigil run` as a child, a host fails, and the controller is killed with
 * SIGKILL in the middle of its restart wave, then started again on the same
 * state directory. Whatever the kill point, every VM of the failed host ends
 * running exactly once, and the lab (which keeps the truth) logs no double
 * start, no start on a dead host, and no refused call.
 *
 * Kill points are chosen from outside, as a crash would: when the journal
 * has N intents on disk (the provider call may or may not have been made),
 * or when the lab has completed N starts (others still running). Each case
 * checks that something was in flight when the process died, so a kill that
 * missed the wave fails the test instead of passing it.
 */
import axios from 'axios';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinPath } from '../../src/paths.js';
import { freePort, vigilProcess, waitFor } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

type Child = ReturnType<typeof vigilProcess>;
// Cases run side by side: each stops its own processes; this catches any left by a failure.
const children: Child[] = [];
afterAll(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The restartable VMs of esx-02 in examples/lab.yaml (dev-01 is disabled by policy). */
const ON_ESX02 = ['app-02', 'app-05', 'batch-03', 'cache-01', 'db-02', 'web-02', 'web-06'];

interface LabEntry {
  readonly op: string;
  readonly vm?: string;
  readonly host?: string;
  readonly error?: string;
  readonly violation?: true;
}

interface JournalCounts {
  readonly intents: number;
  readonly open: number;
}

function journalCounts(file: string): JournalCounts {
  if (!existsSync(file)) return { intents: 0, open: 0 };
  const ids = new Map<string, boolean>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    // A line being written as we read is incomplete: skip it, the next read sees it whole.
    let rec: { type?: string; id?: string } | undefined;
    try {
      rec = (JSON.parse(line) as { rec?: { type?: string; id?: string } }).rec;
    } catch {
      continue;
    }
    if (rec?.type === 'intent' && rec.id) ids.set(rec.id, true);
    if (rec?.type === 'outcome' && rec.id) ids.set(rec.id, false);
  }
  return { intents: ids.size, open: [...ids.values()].filter(Boolean).length };
}

type KillPoint = { readonly intents: number } | { readonly starts: number };

async function labLog(labUrl: string): Promise<LabEntry[]> {
  const text = (await axios.get<string>(`${labUrl}/lab/log`, { responseType: 'text', timeout: 2_000 })).data;
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LabEntry);
}

async function crashRun(points: readonly KillPoint[]): Promise<void> {
  const mine: Child[] = [];
  try {
    await crashRunIn(points, mine);
  } finally {
    for (const c of mine) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

async function crashRunIn(points: readonly KillPoint[], mine: Child[]): Promise<void> {
  const [labPort, apiPort] = [await freePort(), await freePort()];
  const labUrl = `http://127.0.0.1:${labPort}`;
  const lab = vigilProcess(['lab', 'serve', '--listen', `127.0.0.1:${labPort}`, '--speed', '1']);
  children.push(lab);
  mine.push(lab);
  await waitFor('the lab', async () => (await axios.get(`${labUrl}/lab/inventory`)).data, 60_000);

  const dir = tempDir();
  const config = join(dir, 'vigil.yaml');
  writeFileSync(
    config,
    [
      'controller:',
      '  pollInterval: 300ms',
      `  listen: 127.0.0.1:${apiPort}`,
      '  stateDir: ./state',
      '  detection: {failAfterPolls: 2}',
      // Lab time is real time: a start takes 3.3-5.6 s, so starts the killed controller
      // began are still running when its successor looks, and it must leave them be.
      // The grace outlasts the longest start, as it must outlast the platform's on a
      // real estate.
      '  execution: {maxParallel: 4, taskPollInterval: 50ms, orphanGrace: 7s}',
      `policies: ${builtinPath('policies')}`,
      'clusters:',
      '  - name: lab',
      '    provider: sim',
      `    url: ${labUrl}`,
      '    fencing:',
      '      agents:',
      `        - {type: redfish, url: "${labUrl}/lab/redfish/{host}", username: admin, password: lab, pollInterval: 50ms}`,
      '',
    ].join('\n'),
  );
  const journal = join(dir, 'state', 'journal.jsonl');
  const start = (): Child => {
    const run = vigilProcess(['run', '--config', config], { env: { VIGIL_LOG_LEVEL: 'info' } });
    children.push(run);
    mine.push(run);
    return run;
  };
  const status = async () => (await axios.get(`http://127.0.0.1:${apiPort}/api/v1/status`, { timeout: 2_000 })).data;

  let run = start();
  await waitFor('the first poll', async () => ((await status()).clusters[0].lastPoll ? true : undefined), 60_000);
  await axios.post(`${labUrl}/lab/hosts/esx-02/fail`);

  for (const point of points) {
    // Watch closely (a few ms) so the kill lands inside the wave.
    await waitFor(
      `kill point ${JSON.stringify(point)}`,
      async () => {
        if ('intents' in point) return journalCounts(journal).intents >= point.intents ? true : undefined;
        // Only while something is in flight: under load the last starts can all complete between two looks.
        const starts = (await labLog(labUrl)).filter((e) => e.op === 'start').length;
        return starts >= point.starts && journalCounts(journal).open > 0 ? true : undefined;
      },
      90_000,
    );
    run.kill('SIGKILL');
    await waitFor('the controller to die', async () => (run.exitCode !== null || run.signalCode !== null ? true : undefined), 5_000);
    const atKill = journalCounts(journal);
    const startsAtKill = (await labLog(labUrl)).filter((e) => e.op === 'start').length;
    // The kill must have cut the wave: an action in flight, some VMs not yet started.
    expect(atKill.open, `open intents when killed at ${JSON.stringify(point)}`).toBeGreaterThan(0);
    expect(startsAtKill).toBeLessThan(ON_ESX02.length);
    run = start();
  }

  await waitFor(
    'every VM of esx-02 to run elsewhere',
    async () => {
      const inv = (await axios.get(`${labUrl}/lab/inventory`)).data as { clusters: { vms: { name: string; host: string; power?: string }[] }[] };
      const vms = inv.clusters.flatMap((c) => c.vms).filter((v) => ON_ESX02.includes(v.name));
      return vms.every((v) => v.host !== 'esx-02' && (v.power ?? 'on') === 'on') ? true : undefined;
    },
    60_000,
  );
  // Let the last controller finish its bookkeeping, then stop it properly.
  await waitFor('no open intent', async () => (journalCounts(journal).open === 0 ? true : undefined), 20_000);
  run.kill('SIGTERM');
  await waitFor('a clean stop', async () => (run.exitCode === null ? undefined : run.exitCode), 10_000);
  expect(run.exitCode).toBe(0);

  const log = await labLog(labUrl);
  expect(log.filter((e) => e.violation)).toEqual([]);
  expect(log.filter((e) => e.error)).toEqual([]);
  const starts = log.filter((e) => e.op === 'start').map((e) => e.vm).sort();
  expect(starts).toEqual(ON_ESX02);
  // Fenced once, before the first start.
  expect(log.filter((e) => e.op === 'power-off-host').map((e) => e.host)).toEqual(['esx-02']);
  expect(log.findIndex((e) => e.op === 'power-off-host')).toBeLessThan(log.findIndex((e) => e.op === 'start'));
}

// Each case has its own lab, controller, ports and state directory, and spends
// most of its time waiting on lab time: they run side by side.
describe.concurrent('SIGKILL in the middle of a restart wave, then a restart', () => {
  it('right after the first intent is on disk (the call may not have been made)', () => crashRun([{ intents: 1 }]), 240_000);
  it('after two starts completed, two more in flight', () => crashRun([{ starts: 2 }]), 240_000);
  it('after the fifth intent', () => crashRun([{ intents: 5 }]), 240_000);
  it('near the end of the wave: five started, the last two in flight', () => crashRun([{ starts: 5 }]), 240_000);
  it('twice: in the first wave, and again in the restarted controller’s wave', () => crashRun([{ intents: 2 }, { intents: 6 }]), 240_000);
});
