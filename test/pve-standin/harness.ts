/**
 * One call to bring up the Proxmox test setup: the API stand-in on an
 * HTTPS port of its own (self-signed certificate made now), a temporary
 * /etc/pve tree, and on request a real sshd working on that tree. Also
 * builds the provider's cluster entry for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PveStandin, type GuestSpec, type NodeSpec, type StorageSpec, type Timings } from './standin.js';
import { buildStandinServer, type StandinAuth } from './server.js';
import { selfSignedCert, startSshd, type SelfSigned, type Sshd } from './peers.js';

export const AUTH: StandinAuth = { tokenId: 'vigil@pve!ha', tokenSecret: '5f1c2a9e-7d3b-4c8e-9a21-0b6d4e8f3c17', username: 'vigil@pve', password: 'standin-password' };

export const NODES: NodeSpec[] = [
  { name: 'pve1', cpu: 16, memoryGiB: 64 },
  { name: 'pve2', cpu: 16, memoryGiB: 64 },
  { name: 'pve3', cpu: 16, memoryGiB: 64 },
];

export const STORAGES: StorageSpec[] = [
  { id: 'ceph', type: 'rbd', shared: true, content: 'images,rootdir', totalGiB: 4096, usedGiB: 1024 },
  { id: 'local-lvm', type: 'lvmthin', shared: false, content: 'images,rootdir', totalGiB: 800, usedGiB: 100 },
  { id: 'local', type: 'dir', shared: false, content: 'backup,iso,vztmpl', totalGiB: 100, usedGiB: 20 },
];

export const GUESTS: GuestSpec[] = [
  { vmid: 100, name: 'web-01', node: 'pve1', cores: 2, memoryMiB: 4096, disks: ['ceph'], tags: 'web;prod' },
  { vmid: 101, name: 'db-01', node: 'pve2', cores: 4, memoryMiB: 16384, disks: ['ceph'], ha: true },
  { vmid: 102, name: 'cache-01', node: 'pve2', cores: 2, memoryMiB: 8192, disks: ['ceph'] },
  { vmid: 103, name: 'build-01', node: 'pve1', cores: 8, memoryMiB: 8192, disks: ['ceph'], running: false },
  { vmid: 104, name: 'legacy-01', node: 'pve2', cores: 2, memoryMiB: 2048, disks: ['local-lvm'] },
  { vmid: 200, type: 'lxc', name: 'dns-01', node: 'pve3', cores: 1, memoryMiB: 1024, disks: ['ceph'] },
];

export interface Harness {
  readonly pve: PveStandin;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly tls: SelfSigned;
  readonly dir: string;
  readonly sshd?: Sshd;
  /** A `provider: proxmox` cluster entry for this setup (before schema parsing). */
  entry(extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly nodes?: NodeSpec[];
  readonly storages?: StorageSpec[];
  readonly guests?: GuestSpec[];
  readonly timings?: Partial<Timings>;
  readonly sshd?: boolean;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pve-'));
  const tls = selfSignedCert(dir);
  const pveRoot = join(dir, 'etc', 'pve');
  const pve = new PveStandin({ root: pveRoot, nodes: o.nodes ?? NODES, storages: o.storages ?? STORAGES, guests: o.guests ?? GUESTS, ...(o.timings ? { timings: o.timings } : {}) });
  const app = buildStandinServer(pve, tls, AUTH);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  let sshd: Sshd | undefined;
  try {
    if (o.sshd) sshd = await startSshd(join(dir, 'ssh'), pveRoot);
  } catch (e) {
    await app.close();
    throw e;
  }
  return {
    pve,
    app,
    url,
    tls,
    dir,
    ...(sshd ? { sshd } : {}),
    entry: (extra = {}) => ({
      name: 'pve',
      provider: 'proxmox',
      url,
      tokenId: AUTH.tokenId,
      tokenSecret: AUTH.tokenSecret,
      caFile: tls.certFile,
      timeout: '5s',
      ...(sshd
        ? {
            recovery: 'direct',
            ssh: { port: sshd.port, username: sshd.username, privateKeyFile: sshd.clientKeyFile, knownHostsFile: sshd.knownHostsFile, pveRoot, haManager: sshd.haManager, timeout: '10s' },
          }
        : {}),
      ...extra,
    }),
    close: async () => {
      await sshd?.stop();
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
