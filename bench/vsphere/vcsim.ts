/**
 * Starts Vigil's vcsim harness (test/vcsim, built into .peers/ by
 * .ci/setup.d/vsphere.sh) on loopback ports it picks itself, and talks to
 * its control API. Shared by the vSphere tests and bench/vsphere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { builtinPath } from '../../src/paths.js';

export const VCSIM_BINARY = builtinPath('.peers', 'vcsim', 'vigil-vcsim');

export interface VcsimOptions {
  readonly clusters?: number;
  /** Hosts per cluster. */
  readonly hosts?: number;
  /** VMs in total. */
  readonly vms?: number;
  readonly datastores?: number;
  readonly tls?: boolean;
  readonly sessionIdleTimeout?: string;
  readonly autostart?: boolean;
  readonly startTimeoutMs?: number;
}

export interface VcsimHost {
  readonly name: string;
  readonly moid: string;
  readonly connectionState: string;
  readonly powerState: string;
  readonly maintenance: boolean;
  readonly mode: string;
  readonly vms: number;
}

export interface VcsimVm {
  readonly name: string;
  readonly moid: string;
  readonly instanceUuid: string;
  readonly host: string;
  readonly powerState: string;
  readonly connectionState: string;
  readonly vmx: string;
  readonly reallyRunning: boolean;
}

export interface VcsimDatastore {
  readonly name: string;
  readonly moid: string;
  readonly accessible: boolean;
  readonly type: string;
  readonly mounts: Record<string, boolean>;
  readonly capacity: number;
  readonly freeSpace: number;
}

export interface VcsimLogEntry {
  readonly op: string;
  readonly vm?: string;
  readonly host?: string;
  readonly error?: string;
}

export interface VcsimState {
  readonly hosts: VcsimHost[];
  readonly vms: VcsimVm[];
  readonly datastores: VcsimDatastore[];
  readonly clusters: { name: string; moid: string }[];
  readonly locks: Record<string, string>;
  readonly log: VcsimLogEntry[];
  readonly errors: VcsimLogEntry[];
}

export class Vcsim {
  readonly user = 'vigil';
  readonly password = 'vigil-pass';

  constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly controlUrl: string,
    readonly buildMs: number,
    readonly caFile?: string,
    readonly thumbprint?: string,
    readonly thumbprintSha256?: string,
  ) {}

  /** Calls a control endpoint (`/hosts/fail`, ...) with query parameters; rejects on a refusal. */
  async control<T = unknown>(path: string, query: Record<string, string | number> = {}): Promise<T> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const res = await fetch(`${this.controlUrl}${path}${qs ? `?${qs}` : ''}`, { method: 'POST' });
    const body = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`vcsim ${path}: ${body.error ?? res.status}`);
    return body;
  }

  async state(): Promise<VcsimState> {
    const res = await fetch(`${this.controlUrl}/state`);
    return (await res.json()) as VcsimState;
  }

  /** SOAP calls the harness received, by method; `reset` starts counting afresh. */
  async calls(reset = false): Promise<Record<string, number>> {
    const res = await fetch(`${this.controlUrl}/calls${reset ? '?reset=1' : ''}`);
    return (await res.json()) as Record<string, number>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

export async function startVcsim(o: VcsimOptions = {}): Promise<Vcsim> {
  if (!existsSync(VCSIM_BINARY)) {
    throw new Error(`the vcsim harness is not built (${VCSIM_BINARY}); run \`npm run setup-peers\` (it needs the Debian packages golang-go and golang-github-vmware-govmomi-dev)`);
  }
  const args = ['-exit-on-stdin-eof', '-clusters', String(o.clusters ?? 1), '-hosts', String(o.hosts ?? 3), '-vms', String(o.vms ?? 6), '-ds', String(o.datastores ?? 1)];
  if (o.tls) args.push('-tls');
  if (o.sessionIdleTimeout) args.push('-session-idle-timeout', o.sessionIdleTimeout);
  if (o.autostart === false) args.push('-autostart=false');
  if (process.env.VIGIL_VCSIM_VERBOSE) args.push('-verbose');
  const child = spawn(VCSIM_BINARY, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (process.env.VIGIL_VCSIM_VERBOSE) process.stderr.write(d);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = await new Promise<Record<string, string | number>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vcsim did not start within ${o.startTimeoutMs ?? 60_000} ms: ${stderr}`));
    }, o.startTimeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vcsim exited (${code}) before it was ready: ${stderr}`));
    });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as Record<string, string | number>);
      } catch {
        reject(new Error(`vcsim printed ${line}`));
      }
    });
  });
  child.removeAllListeners('exit');
  const str = (k: string) => (typeof ready[k] === 'string' ? ready[k] : undefined);
  return new Vcsim(child, str('url') as string, str('control') as string, Number(ready.build_ms), str('caFile'), str('thumbprint'), str('thumbprintSha256'));
}
