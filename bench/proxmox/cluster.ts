/**
 * A synthetic Proxmox VE cluster for the benchmark (seeded: the same every
 * run), as the three snapshot answers plus the slowly refreshed ones
 * (storage content, replication), served by a local HTTPS server that
 * counts requests. Shapes follow the recorded answers in
 * test/fixtures/proxmox.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { rng } from '../harness.js';

const GiB = 2 ** 30;

export interface SyntheticCluster {
  readonly nodes: number;
  readonly guests: number;
  /** Response bodies by path (without query). */
  readonly bodies: Map<string, string>;
}

export function syntheticCluster(nodes: number, guests: number, seed = 7): SyntheticCluster {
  const rand = rng(seed);
  const names = Array.from({ length: nodes }, (_, i) => `pve${String(i + 1).padStart(2, '0')}`);
  const resources: Record<string, unknown>[] = [];
  const ha: Record<string, unknown>[] = [{ id: 'quorum', type: 'quorum', node: names[0], status: 'OK', quorate: 1 }, { id: 'master', type: 'master', node: names[0], status: `${names[0]} (active, Tue Dec  1 01:00:00 2026)`, timestamp: 1_790_000_000 }];
  for (const n of names) {
    resources.push({ id: `node/${n}`, type: 'node', node: n, status: 'online', level: '', 'cgroup-mode': 2, maxcpu: 64, maxmem: 512 * GiB, cpu: rand() * 0.5, mem: Math.round(rand() * 256 * GiB), disk: 20 * GiB, maxdisk: 200 * GiB, uptime: 874_350 });
    ha.push({ id: `lrm:${n}`, type: 'lrm', node: n, status: `${n} (active, Tue Dec  1 01:00:00 2026)`, timestamp: 1_790_000_000 });
  }
  const sizes = [1024, 2048, 4096, 8192, 16384, 32768];
  const content = new Map<string, Record<string, unknown>[]>();
  for (let i = 0; i < guests; i++) {
    const vmid = 100 + i;
    const node = names[i % nodes] as string;
    const type = rand() < 0.9 ? 'qemu' : 'lxc';
    const running = rand() < 0.85;
    const maxmem = (sizes[Math.floor(rand() * sizes.length)] as number) * 2 ** 20;
    const managed = rand() < 0.15;
    const local = rand() < 0.1;
    const row: Record<string, unknown> = {
      id: `${type}/${vmid}`, type, vmid, node, name: `guest-${String(i).padStart(4, '0')}`, status: running ? 'running' : 'stopped', template: 0,
      maxcpu: 1 + Math.floor(rand() * 8), maxmem, mem: running ? Math.round(maxmem * rand()) : 0, cpu: running ? rand() : 0,
      maxdisk: 32 * GiB, disk: 0, diskread: 0, diskwrite: 0, netin: 0, netout: 0, uptime: running ? 3600 : 0,
      ...(rand() < 0.3 ? { tags: 'prod;web' } : {}),
    };
    if (managed) {
      row.hastate = running ? 'started' : 'stopped';
      const sid = `${type === 'qemu' ? 'vm' : 'ct'}:${vmid}`;
      ha.push({ id: `service:${sid}`, type: 'service', sid, node, crm_state: row.hastate, state: row.hastate, request_state: row.hastate, status: `${sid} (${node}, ${String(row.hastate)})`, max_restart: 1, max_relocate: 1 });
    }
    resources.push(row);
    const key = local ? `/api2/json/nodes/${node}/storage/local-lvm/content` : '/api2/json/nodes/pve01/storage/ceph-vm/content';
    const list = content.get(key) ?? [];
    list.push({ volid: `${local ? 'local-lvm' : 'ceph-vm'}:vm-${vmid}-disk-0`, vmid, content: type === 'qemu' ? 'images' : 'rootdir', format: 'raw', size: 32 * GiB });
    content.set(key, list);
  }
  for (const n of names) {
    resources.push({ id: `storage/${n}/ceph-vm`, type: 'storage', storage: 'ceph-vm', node: n, status: 'available', shared: 1, plugintype: 'rbd', content: 'images,rootdir', disk: 40_000 * GiB, maxdisk: 100_000 * GiB });
    resources.push({ id: `storage/${n}/local-lvm`, type: 'storage', storage: 'local-lvm', node: n, status: 'available', shared: 0, plugintype: 'lvmthin', content: 'images,rootdir', disk: 300 * GiB, maxdisk: 1_800 * GiB });
    resources.push({ id: `storage/${n}/local`, type: 'storage', storage: 'local', node: n, status: 'available', shared: 0, plugintype: 'dir', content: 'backup,iso,vztmpl', disk: 20 * GiB, maxdisk: 100 * GiB });
  }
  const status = [
    { type: 'cluster', id: 'cluster', name: 'bench', version: 32, quorate: 1, nodes },
    ...names.map((n, i) => ({ type: 'node', id: `node/${n}`, name: n, nodeid: i + 1, online: 1, ip: `127.0.1.${i + 1}`, local: i === 0 ? 1 : 0, level: '' })),
  ];
  const bodies = new Map<string, string>([
    ['/api2/json/cluster/resources', JSON.stringify({ data: resources })],
    ['/api2/json/cluster/status', JSON.stringify({ data: status })],
    ['/api2/json/cluster/ha/status/current', JSON.stringify({ data: ha })],
    ['/api2/json/cluster/replication', JSON.stringify({ data: [] })],
  ]);
  for (const n of names) bodies.set(`/api2/json/nodes/${n}/storage/local-lvm/content`, JSON.stringify({ data: content.get(`/api2/json/nodes/${n}/storage/local-lvm/content`) ?? [] }));
  bodies.set('/api2/json/nodes/pve01/storage/ceph-vm/content', JSON.stringify({ data: content.get('/api2/json/nodes/pve01/storage/ceph-vm/content') ?? [] }));
  return { nodes, guests, bodies };
}

export interface BenchServer {
  readonly url: string;
  readonly caFile: string;
  requests: number;
  close(): Promise<void>;
}

/** Serves the bodies over HTTPS on a loopback port with a certificate made now by openssl. */
export async function serve(cluster: SyntheticCluster, dir: string): Promise<BenchServer> {
  const keyFile = join(dir, 'key.pem');
  const caFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=bench', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', caFile], { stdio: 'ignore' });
  const state = { requests: 0 };
  const server: Server = createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (req, res) => {
    state.requests += 1;
    const body = cluster.bodies.get((req.url ?? '').split('?')[0] ?? '');
    if (body === undefined) {
      res.writeHead(501, `Method '${req.method} ${req.url}' not implemented`, { 'Content-Type': 'application/json;charset=UTF-8' }).end('{"data":null}');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    caFile,
    get requests() {
      return state.requests;
    },
    set requests(v: number) {
      state.requests = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
