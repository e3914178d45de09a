/**
 * A real etcd cluster for the tests and the takeover benchmark: Debian's etcd 3.4 (`.ci/packages.d/etcd.txt`),
 * N members on loopback, free ports, data in a temporary directory (on
 * /dev/shm when there is one, so fsync on a busy disk does not cost etcd
 * its heartbeats). Members are spawned directly, so each child's pid is
 * etcd's own and stopping one stops exactly that member.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../test/helpers/cli.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly dataDir: string;
  /** Running now. */
  running(): boolean;
  /** SIGTERM, then SIGKILL if it lingers; resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data (after stop). */
  start(): void;
}

export interface EtcdCluster {
  readonly endpoints: string[];
  readonly members: readonly EtcdMember[];
  stop(): Promise<void>;
}

const CANDIDATES = ['/usr/bin/etcd', '/usr/local/bin/etcd'];

export function etcdBinary(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error("etcd is not installed: the replica tests need Debian's etcd-server (run `bash .ci/setup-peers`, or apt-get install etcd-server etcd-client)");
  return found;
}


export interface EtcdTls {
  /** The members' certificate and key (for 127.0.0.1). */
  readonly certFile: string;
  readonly keyFile: string;
  /** With it, members require client certificates signed by this CA. */
  readonly clientCaFile?: string;
  /** For etcdctl's health checks: a CA for the members, and a client certificate when they require one. */
  readonly ctl: readonly string[];
}

export async function startEtcdCluster(size = 3, o: { tag?: string; tls?: EtcdTls } = {}): Promise<EtcdCluster> {
  const bin = etcdBinary();
  const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `vigil-etcd-${o.tag ?? 't'}-`));
  const specs = [];
  for (let i = 1; i <= size; i++) specs.push({ name: `m${i}`, client: await freePort(), peer: await freePort() });
  const initial = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');
  const token = `vigil-test-${process.pid}-${Date.now()}`;
  const members: EtcdMember[] = specs.map((s) => {
    const dataDir = join(root, s.name);
    const clientUrl = `${o.tls ? 'https' : 'http'}://127.0.0.1:${s.client}`;
    const args = [
      '--name', s.name,
      '--data-dir', dataDir,
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', `http://127.0.0.1:${s.peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${s.peer}`,
      '--initial-cluster', initial,
      '--initial-cluster-token', token,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--log-level', 'error',
      ...(o.tls ? ['--cert-file', o.tls.certFile, '--key-file', o.tls.keyFile] : []),
      ...(o.tls?.clientCaFile ? ['--client-cert-auth', '--trusted-ca-file', o.tls.clientCaFile] : []),
    ];
    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    let log = '';
    const member: EtcdMember = {
      name: s.name,
      clientUrl,
      dataDir,
      running: () => !!child && child.exitCode === null && child.signalCode === null,
      start() {
        if (member.running()) return;
        const c = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        c.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
        exited = new Promise((r) => c.once('exit', () => r()));
        child = c;
      },
      async stop() {
        if (!child || !member.running()) return;
        const c = child;
        c.kill('SIGTERM');
        const t = setTimeout(() => c.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      },
    };
    Object.defineProperty(member, 'log', { get: () => log });
    return member;
  });
  for (const m of members) m.start();
  const cluster: EtcdCluster = {
    endpoints: members.map((m) => m.clientUrl),
    members,
    async stop() {
      await Promise.all(members.map((m) => m.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await waitHealthy(members.map((m) => m.clientUrl), 20_000, o.tls?.ctl ?? []);
  } catch (e) {
    const logs = members.map((m) => `${m.name}: ${(m as unknown as { log: string }).log}`).join('\n');
    await cluster.stop();
    throw new Error(`${(e as Error).message}\n${logs}`, { cause: e });
  }
  return cluster;
}

/** Until `etcdctl endpoint health` says every endpoint is healthy (a quorum formed and answers). */
export async function waitHealthy(endpoints: readonly string[], timeoutMs: number, ctlArgs: readonly string[] = []): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    const r = spawnSync('etcdctl', ['--endpoints', endpoints.join(','), '--command-timeout=2s', ...ctlArgs, 'endpoint', 'health'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    if (r.status === 0) return;
    last = `${r.stdout}${r.stderr}`.trim();
    await new Promise((res) => setTimeout(res, 150));
  }
  throw new Error(`etcd did not become healthy within ${timeoutMs} ms: ${last}`);
}
