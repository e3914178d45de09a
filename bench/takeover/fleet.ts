/**
 * Several `vigil run` replicas on one config, against the lab served as
 * its own process (`vigil lab serve`) and an etcd cluster: what the replica
 * tests and the takeover benchmark drive. Every replica gets its listen
 * address and name from its environment (`${env:…}` in the one config),
 * as replicas on separate machines would get them from the same file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import axios from 'axios';
import type { Decision } from '../../src/decisions.js';
import type { StatusReport } from '../../src/service/status.js';
import { builtinPath } from '../../src/paths.js';
import { freePort } from '../../test/helpers/cli.js';

const BIN = builtinPath('bin', 'vigil.js');

export interface LabLogEntry {
  readonly t: number;
  readonly op: string;
  readonly vm?: string;
  readonly host?: string;
  readonly error?: string;
  readonly violation?: true;
}

/** A lab of `hosts` hosts with `vmsPerHost` small VMs each, on one shared datastore: room to lose a host or two. */
export function fleetInventory(hosts = 5, vmsPerHost = 8): string {
  const names = Array.from({ length: hosts }, (_, i) => `esx-${String(i + 1).padStart(2, '0')}`);
  const lines = ['clusters:', '  - name: lab', '    hosts:'];
  for (const h of names) lines.push(`      - {name: ${h}, cpu: 64, memoryGiB: 512}`);
  lines.push('    datastores:', `      - {name: shared, capacityGiB: 20000, freeGiB: 15000, hosts: [${names.join(', ')}]}`, '    vms:');
  for (const h of names) for (let k = 1; k <= vmsPerHost; k++) lines.push(`      - {name: vm-${h.slice(4)}-${k}, host: ${h}, cpu: 2, memoryGiB: 8, datastores: [shared]}`);
  return `${lines.join('\n')}\n`;
}

/** The VMs the fleet inventory puts on a host. */
export function vmsOn(host: string, vmsPerHost = 8): string[] {
  return Array.from({ length: vmsPerHost }, (_, k) => `vm-${host.slice(4)}-${k + 1}`);
}

export interface Proc {
  readonly proc: ChildProcess;
  output(): string;
  alive(): boolean;
  /** Signals the process and, for a stop, waits until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function launch(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: builtinPath(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-200_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    output: () => out,
    alive,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      if (!alive()) return;
      proc.kill('SIGCONT');
      proc.kill(signal);
      await exited;
    },
  };
}

export interface Lab extends Proc {
  readonly url: string;
  log(): Promise<LabLogEntry[]>;
  post(path: string): Promise<void>;
  /** The VMs running on a host now, by the lab's truth. */
  running(host: string): Promise<string[]>;
  /** Every VM of `vms` has been started since log entry `from`. */
  started(vms: readonly string[], from?: number): Promise<boolean>;
}

export async function startLab(dir: string, o: { speed?: number } = {}): Promise<Lab> {
  const inventory = join(dir, 'lab.yaml');
  writeFileSync(inventory, fleetInventory());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const p = launch(['lab', 'serve', '--inventory', inventory, '--listen', `127.0.0.1:${port}`, '--speed', String(o.speed ?? 10)]);
  const lab: Lab = {
    ...p,
    url,
    async log() {
      const res = await axios.get<string>(`${url}/lab/log`, { responseType: 'text', timeout: 5_000 });
      return res.data.trim() ? res.data.trim().split('\n').map((l) => JSON.parse(l) as LabLogEntry) : [];
    },
    async post(path: string) {
      await axios.post(`${url}${path}`, {}, { timeout: 5_000 });
    },
    async running(host: string) {
      const inv = (await axios.get<{ clusters: { vms: { name: string; host: string; power?: string }[] }[] }>(`${url}/lab/inventory`, { timeout: 5_000 })).data;
      return inv.clusters.flatMap((c) => c.vms).filter((v) => v.host === host && v.power !== 'off').map((v) => v.name);
    },
    async started(vms: readonly string[], from = 0) {
      const started = new Set((await lab.log()).slice(from).filter((e) => e.op === 'start').map((e) => e.vm));
      return vms.every((v) => started.has(v));
    },
  };
  await until('the lab to answer', async () => (await axios.get(`${url}/lab/inventory`, { timeout: 1_000 })).status === 200, 15_000);
  return lab;
}

export interface FleetConfig {
  readonly labUrl: string;
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly ttl: string;
  readonly poll: string;
}

/** One vigil.yaml for every replica. */
export function writeFleetConfig(dir: string, c: FleetConfig): string {
  const path = join(dir, 'vigil.yaml');
  writeFileSync(
    path,
    [
      'controller:',
      `  pollInterval: ${c.poll}`,
      '  pollJitter: 0',
      '  listen: ${env:VIGIL_LISTEN}',
      '  execution: {taskPollInterval: 100ms, maxParallel: 1}',
      '  guard: {maxFailures: 4}',
      'state:',
      '  etcd:',
      `    endpoints: [${c.endpoints.join(', ')}]`,
      `    prefix: ${c.prefix}`,
      `    leaseTtl: ${c.ttl}`,
      '    replicaName: ${env:VIGIL_REPLICA}',
      '    requestTimeout: 2s',
      '    dialTimeout: 3s',
      `policies: ${builtinPath('policies')}`,
      'clusters:',
      '  - name: lab',
      '    provider: sim',
      `    url: ${c.labUrl}`,
      '    fencing:',
      '      agents:',
      `        - {type: redfish, url: "${c.labUrl}/lab/redfish/{host}", username: admin, password: lab, pollInterval: 100ms}`,
      '',
    ].join('\n'),
  );
  return path;
}

export interface Replica extends Proc {
  readonly name: string;
  readonly url: string;
  status(): Promise<StatusReport>;
  /** The HTTP status of /readyz (0 when it does not answer). */
  readyz(): Promise<number>;
  decisions(): Promise<Decision[]>;
}

export async function startReplica(config: string, name: string): Promise<Replica> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const p = launch(['run', '--config', config], { VIGIL_LISTEN: `127.0.0.1:${port}`, VIGIL_REPLICA: name, VIGIL_LOG_LEVEL: 'info' });
  const status = async (): Promise<StatusReport> => (await axios.get<StatusReport>(`${url}/api/v1/status`, { timeout: 2_000 })).data;
  return {
    ...p,
    name,
    url,
    status,
    async readyz() {
      try {
        return (await axios.get(`${url}/readyz`, { timeout: 2_000, validateStatus: () => true })).status;
      } catch {
        return 0;
      }
    },
    async decisions() {
      return (await status()).clusters.flatMap((c) => c.recent);
    },
  };
}

/** Which live replica says it leads the cluster (undefined if none does, or several do). */
export async function leaderOf(replicas: readonly Replica[], cluster = 'lab'): Promise<Replica | undefined> {
  const leaders = await leadersOf(replicas, cluster);
  return leaders.length === 1 ? leaders[0] : undefined;
}

/** Every live replica that says it leads the cluster. */
export async function leadersOf(replicas: readonly Replica[], cluster = 'lab'): Promise<Replica[]> {
  const leaders: Replica[] = [];
  for (const r of replicas) {
    if (!r.alive()) continue;
    try {
      const s = await r.status();
      if (s.clusters.find((c) => c.name === cluster)?.role === 'leader') leaders.push(r);
    } catch {
      // Not answering (starting, stopped): not a leader we can see.
    }
  }
  return leaders;
}

/**
 * Resolves while the leader is following a restart it has sent: its
 * decision `action-started` is 40-320 ms old and the lab has not finished
 * that start (a start takes 330 ms or more at the lab's speed 10, and the
 * replica sees it end at its next task poll). A kill
 * or a pause then lands with a task under way, not between an intent and
 * its call (a call that may or may not have left makes a new leader wait
 * its grace period before it tries again). `from`: the lab log's length
 * when this wave began. Returns the leader and the VM.
 */
export async function whileFollowing(replicas: readonly Replica[], lab: Lab, o: { from?: number; timeoutMs?: number } = {}): Promise<{ leader: Replica; vm: string }> {
  let leader: Replica | undefined;
  return until(
    'the leader to follow a restart',
    async () => {
      // Looked up again when it stops leading: a leader may hand the cluster to its preferred replica while the failure is being confirmed.
      leader ??= await leaderOf(replicas);
      const r = leader;
      if (!r) return undefined;
      const s = (await r.status()).clusters[0];
      if (s?.role !== 'leader') {
        leader = undefined;
        return undefined;
      }
      const started = s.recent.filter((d) => d.kind === 'action-started');
      const d = started[started.length - 1];
      if (!d) return undefined;
      const age = Date.now() - d.at;
      if (age < 40 || age > 320) return undefined;
      // Only this wave's entries: the same VM may have been started in an earlier one.
      if ((await lab.log()).slice(o.from ?? 0).some((e) => e.op === 'start' && e.vm === d.subject)) return undefined;
      return { leader: r, vm: d.subject };
    },
    o.timeoutMs ?? 20_000,
    10,
  );
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last instanceof Error ? ` (${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
