/**
 * Faults and shapes the stand-in should not produce, with nock: recorded
 * real answers (test/fixtures/proxmox), truncated JSON, HTML error pages,
 * missing fields, a bad token, a node that is down (595), and a POST whose
 * answer is lost after the server accepted it. The provider is given
 * nock's patched global fetch; every answer carries PVE's exact
 * `Content-Type: application/json;charset=UTF-8`.
 */
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import { ErrorCodes, VigilError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { builtinPath } from '../../../src/paths.js';
import { createProxmoxProvider } from '../../../providers/proxmox/index.js';
import { proxmoxConfigSchema } from '../../../providers/proxmox/config.js';
import type { ProxmoxProvider } from '../../../providers/proxmox/provider.js';

const BASE = 'https://pve.example:8006';
const API = '/api2/json';
const JSON_TYPE = { 'Content-Type': 'application/json;charset=UTF-8' };
const SECRET = '0b1e7c52-3f4d-4e8a-9c6b-2d5f8a1e7c30';
const fixture = (name: string): unknown => JSON.parse(readFileSync(builtinPath('test', 'fixtures', 'proxmox', name), 'utf8'));
const data = (name: string): unknown => (fixture(name) as { data: unknown }).data;

async function provider(extra: Record<string, unknown> = {}): Promise<ProxmoxProvider> {
  const config = proxmoxConfigSchema.parse({ name: 'pve', provider: 'proxmox', url: BASE, tokenId: 'vigil@pve!ha', tokenSecret: SECRET, timeout: '600ms', ...extra });
  return createProxmoxProvider(config, { clock: new SystemClock(), logger: silentLogger(), baseDir: '.' }, { fetch: (url, init) => globalThis.fetch(url, init as RequestInit) });
}

function reply(scope: nock.Scope, path: string, body: unknown, status = 200): nock.Scope {
  return scope.get(path).reply(status, JSON.stringify(body), JSON_TYPE);
}

/** The three snapshot calls, answered from recorded fixtures, plus the slow part (storage content, replication) empty. */
function recordedCluster(scope: nock.Scope, ha: unknown[] = []): nock.Scope {
  reply(scope, `${API}/cluster/resources`, fixture('go-proxmox-pve8x-cluster-resources.json'));
  reply(scope, `${API}/cluster/status`, fixture('go-proxmox-pve8x-cluster-status.json'));
  reply(scope, `${API}/cluster/ha/status/current`, { data: ha });
  scope
    .get(/\/api2\/json\/nodes\/node\d\/storage\/local-zfs\/content/)
    .times(4)
    .reply(200, (uri) => JSON.stringify({ data: uri.includes('/node2/') ? [{ volid: 'local-zfs:vm-100-disk-0', vmid: 100, content: 'images', size: 34359738368 }] : [] }), JSON_TYPE);
  reply(scope, `${API}/cluster/replication`, { data: [] });
  return scope;
}

async function rejection(p: Promise<unknown>): Promise<VigilError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'expected a VigilError').toBeInstanceOf(VigilError);
  return e as VigilError;
}

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
afterEach(() => nock.cleanAll());

describe('proxmox provider: recorded answers', () => {
  it('maps a recorded /cluster/resources and /cluster/status into the model', async () => {
    const scope = recordedCluster(nock(BASE));
    const p = await provider();
    const s = await p.snapshot();
    expect(scope.isDone()).toBe(true);
    expect(s.hosts.map((h) => [h.name, h.state, h.cpu, h.address])).toEqual([
      ['node1', 'connected', 8, '192.168.1.1'],
      ['node2', 'connected', 12, '192.168.1.2'],
      ['node3', 'connected', 4, '192.168.1.3'],
      ['node4', 'connected', 4, '192.168.1.4'],
    ]);
    expect(s.hosts[0]?.memoryGiB).toBeCloseTo(65919459328 / 2 ** 30, 6);
    // The template (101) is not a workload; stopped guests are off, the running one on.
    expect(s.vms.map((v) => [v.id, v.name, v.host, v.power])).toEqual([
      ['100', 'server1', 'node2', 'on'],
      ['102', 'machine-test', 'node1', 'off'],
      ['200', 'VM 200', 'node1', 'off'],
    ]);
    expect(s.vms[1]?.labels).toEqual({ 'go-proxmox+cloud-init': 'true' });
    expect(s.vms[0]?.datastores).toEqual(['local-zfs@node2']);
    const zfs1 = s.datastores.find((d) => d.name === 'local-zfs@node1');
    expect(zfs1).toMatchObject({ hosts: ['node1'], accessible: true, inaccessibleOn: [], type: 'zfspool' });
    expect(zfs1?.capacityGiB).toBeCloseTo(955016175616 / 2 ** 30, 6);
    expect(zfs1?.freeGiB).toBeCloseTo((955016175616 - 14446702592) / 2 ** 30, 6);
    expect(p.apiCalls).toBe(3 + 4 + 1);
    await p.close();
  });

  it('marks guests Proxmox HA manages, and leaves "ignored" ones to Vigil', async () => {
    recordedCluster(nock(BASE), [
      { id: 'quorum', type: 'quorum', node: 'node1', status: 'OK', quorate: 1 },
      { id: 'service:vm:100', type: 'service', sid: 'vm:100', node: 'node2', crm_state: 'started', state: 'started', request_state: 'started', status: 'vm:100 (node2, started)' },
      { id: 'service:vm:102', type: 'service', sid: 'vm:102', node: 'node1', crm_state: 'ignored', state: 'ignored', request_state: 'ignored', status: 'vm:102 (node1, ignored)' },
      { id: 'lrm:node3', type: 'lrm', node: 'node3', status: 'node3 (maintenance mode, Tue Dec  1 01:00:00 2026)' },
    ]);
    const s = await (await provider()).snapshot();
    expect(s.vms.find((v) => v.id === '100')?.managedBy).toBe('pve-ha');
    expect(s.vms.find((v) => v.id === '102')?.managedBy).toBeUndefined();
    expect(s.hosts.find((h) => h.name === 'node3')?.state).toBe('maintenance');
  });

  it('reads a failed task with its exit status and log tail', async () => {
    const upid = 'UPID:node1:00000003:00000003:00000003:test:failed:root@pam:';
    nock(BASE).get(`${API}/nodes/node1/tasks/${upid}/status`).reply(200, JSON.stringify(fixture('go-proxmox-pve8x-task-status-stopped-failed.json')), JSON_TYPE);
    nock(BASE)
      .get(`${API}/nodes/node1/tasks/${upid}/log`)
      .query(true)
      .reply(200, JSON.stringify(fixture('go-proxmox-pve8x-task-log.json')), JSON_TYPE);
    const st = await (await provider()).task({ id: upid, op: 'migrate' });
    expect(st.state).toBe('error');
    expect(st.state === 'error' && st.message).toContain('some error occurred');
    expect(st.state === 'error' && st.message).toContain('processing step 3');
    expect(st.state === 'error' && st.retryable).toBe(false);
  });

  it('follows running and OK tasks by UPID', async () => {
    const running = 'UPID:node1:00000001:00000001:00000001:test:running:root@pam:';
    const ok = 'UPID:node1:00000002:00000002:00000002:test:completed:root@pam:';
    reply(nock(BASE), `${API}/nodes/node1/tasks/${running}/status`, fixture('go-proxmox-pve8x-task-status-running.json'));
    reply(nock(BASE), `${API}/nodes/node1/tasks/${ok}/status`, fixture('go-proxmox-pve8x-task-status-stopped-OK.json'));
    const p = await provider();
    expect(await p.task({ id: running, op: 'x' })).toEqual({ state: 'running' });
    expect(await p.task({ id: ok, op: 'x' })).toEqual({ state: 'success' });
  });

  it('refuses a live migration the pre-flight forbids, and sends no POST', async () => {
    const scope = nock(BASE);
    reply(scope, `${API}/cluster/resources`, { data: [{ id: 'qemu/101', type: 'qemu', vmid: 101, node: 'node1', status: 'running', name: 'wide' }, { id: 'node/node1', type: 'node', node: 'node1', status: 'online' }, { id: 'node/node4', type: 'node', node: 'node4', status: 'online' }] });
    reply(scope, `${API}/cluster/status`, { data: [{ type: 'cluster', id: 'cluster', name: 'c', quorate: 1 }, { type: 'node', name: 'node1', online: 1 }, { type: 'node', name: 'node4', online: 1 }] });
    scope.get(`${API}/nodes/node1/qemu/101/migrate`).query({ target: 'node4' }).reply(200, JSON.stringify(fixture('go-proxmox-pve9x-GET-qemu-101-migrate-precondition.json')), JSON_TYPE);
    const e = await rejection((await provider()).migrate({ id: '101', name: 'wide' }, { id: 'node4', name: 'node4' }, { live: true }));
    expect(e.code).toBe(ErrorCodes.PROVIDER_REFUSED);
    expect(e.expected).toBe(true);
    expect(e.message).toContain('local-lvm');
    expect(e.message).toContain('vm:101 (node-affinity)');
    expect(scope.isDone()).toBe(true);
  });
});

describe('proxmox provider: bad answers are typed errors naming the endpoint', () => {
  it('truncated JSON', async () => {
    nock(BASE).get(`${API}/cluster/resources`).reply(200, '{"data":[{"type":"qemu","vmid":100,"node":"no', JSON_TYPE);
    reply(nock(BASE), `${API}/cluster/status`, fixture('go-proxmox-pve8x-cluster-status.json'));
    reply(nock(BASE), `${API}/cluster/ha/status/current`, { data: [] });
    const e = await rejection((await provider()).snapshot());
    expect(e.code).toBe(ErrorCodes.PROVIDER_UNAVAILABLE);
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('/api2/json/cluster/resources');
    expect(e.message).toMatch(/invalid JSON.*truncated/);
  });

  it('an HTML error page with status 200', async () => {
    nock(BASE).get(`${API}/cluster/resources`).reply(200, '<!DOCTYPE html><html><body>Proxy error</body></html>', { 'Content-Type': 'text/html' });
    reply(nock(BASE), `${API}/cluster/status`, fixture('go-proxmox-pve8x-cluster-status.json'));
    reply(nock(BASE), `${API}/cluster/ha/status/current`, { data: [] });
    const e = await rejection((await provider()).snapshot());
    expect(e.message).toContain('GET /api2/json/cluster/resources: malformed answer: expected JSON, got "text/html" (an HTML page)');
  });

  it('an HTML 502 from a reverse proxy is "unavailable", retryable', async () => {
    nock(BASE).get(`${API}/cluster/resources`).reply(502, '<html><body><h1>502 Bad Gateway</h1></body></html>', { 'Content-Type': 'text/html' });
    reply(nock(BASE), `${API}/cluster/status`, fixture('go-proxmox-pve8x-cluster-status.json'));
    reply(nock(BASE), `${API}/cluster/ha/status/current`, { data: [] });
    const e = await rejection((await provider()).snapshot());
    expect(e.code).toBe(ErrorCodes.PROVIDER_UNAVAILABLE);
    expect(e.retryable).toBe(true);
    expect(e.details).toMatchObject({ status: 502, endpoint: '/api2/json/cluster/resources' });
  });

  it('a guest without "node" makes the answer malformed; one without "status" is unknown, never off', async () => {
    nock(BASE)
      .get(`${API}/cluster/resources`)
      .reply(200, JSON.stringify({ data: [{ id: 'node/n1', type: 'node', node: 'n1', status: 'online', maxcpu: 4, maxmem: 2 ** 33 }, { id: 'qemu/100', type: 'qemu', vmid: 100 }] }), JSON_TYPE);
    reply(nock(BASE), `${API}/cluster/status`, { data: [{ type: 'node', name: 'n1', online: 1 }] });
    reply(nock(BASE), `${API}/cluster/ha/status/current`, { data: [] });
    const e = await rejection((await provider()).snapshot());
    expect(e.message).toContain('GET /api2/json/cluster/resources: malformed answer: entry 1 has no "node"');

    const scope = nock(BASE);
    reply(scope, `${API}/cluster/resources`, { data: [{ id: 'node/n1', type: 'node', node: 'n1', status: 'online', maxcpu: 4, maxmem: 2 ** 33 }, { id: 'qemu/100', type: 'qemu', vmid: 100, node: 'n1' }] });
    reply(scope, `${API}/cluster/status`, { data: [{ type: 'node', name: 'n1', online: 1 }] });
    reply(scope, `${API}/cluster/ha/status/current`, { data: [] });
    reply(scope, `${API}/cluster/replication`, { data: [] });
    const s = await (await provider()).snapshot();
    expect(s.vms).toEqual([expect.objectContaining({ id: '100', name: 'VM-100', host: 'n1', power: 'unknown' })]);
  });

  it('"data" that is not a list', async () => {
    reply(nock(BASE), `${API}/cluster/resources`, { data: null });
    reply(nock(BASE), `${API}/cluster/status`, fixture('go-proxmox-pve8x-cluster-status.json'));
    reply(nock(BASE), `${API}/cluster/ha/status/current`, { data: [] });
    const e = await rejection((await provider()).snapshot());
    expect(e.message).toContain('/api2/json/cluster/resources: malformed answer: expected a list, got null');
  });
});

describe('proxmox provider: refusals and outages', () => {
  it('a bad token is a clear auth error that never shows the secret', async () => {
    nock(BASE).get(/.*/).times(3).reply(401, JSON.stringify({ data: null }), JSON_TYPE);
    const e = await rejection((await provider()).snapshot());
    expect(e.code).toBe(ErrorCodes.PROVIDER_REFUSED);
    expect(e.details.reason).toBe('auth');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('tokenId/tokenSecret');
    expect(JSON.stringify({ m: e.message, d: e.details, s: e.stack })).not.toContain(SECRET);
  });

  it('ticket login: the recorded answer works; a refused login and a TFA demand are auth errors', async () => {
    nock(BASE).post(`${API}/access/ticket`, 'username=vigil%40pve&password=pw-secret').reply(200, JSON.stringify(fixture('proxmoxer-auth-ticket-ok.json')), JSON_TYPE);
    nock(BASE, { reqheaders: { cookie: 'PVEAuthCookie=ticket', csrfpreventiontoken: 'CSRFPreventionToken' } })
      .get(`${API}/nodes/node1/tasks/UPID:node1:00000001:00000001:00000001:test:running:root@pam:/status`)
      .reply(200, JSON.stringify(fixture('go-proxmox-pve8x-task-status-running.json')), JSON_TYPE);
    const creds = { tokenId: undefined, tokenSecret: undefined, username: 'vigil@pve', password: 'pw-secret' };
    expect(await (await provider(creds)).task({ id: 'UPID:node1:00000001:00000001:00000001:test:running:root@pam:', op: 'x' })).toEqual({ state: 'running' });

    nock(BASE).post(`${API}/access/ticket`).reply(401, JSON.stringify(fixture('proxmoxer-auth-ticket-401-data-null.json')), JSON_TYPE);
    const refused = await rejection((await provider(creds)).task({ id: 'UPID:node1:00000001:00000001:00000001:test:running:root@pam:', op: 'x' }));
    expect(refused.details.reason).toBe('auth');
    expect(refused.message).not.toContain('pw-secret');

    nock(BASE).post(`${API}/access/ticket`).reply(200, JSON.stringify(fixture('proxmoxer-auth-ticket-NeedTFA.json')), JSON_TYPE);
    const tfa = await rejection((await provider(creds)).task({ id: 'UPID:node1:00000001:00000001:00000001:test:running:root@pam:', op: 'x' }));
    expect(tfa.message).toContain('second factor');
  });

  it('a node that is down (595) is retryable unavailability', async () => {
    const upid = 'UPID:node2:00000011:00000011:00000011:qmstart:101:root@pam:';
    nock(BASE).get(`${API}/nodes/node2/tasks/${upid}/status`).reply(595, JSON.stringify({ data: null }), JSON_TYPE);
    const e = await rejection((await provider()).task({ id: upid, op: 'restart' }));
    expect(e.code).toBe(ErrorCodes.PROVIDER_UNAVAILABLE);
    expect(e.retryable).toBe(true);
    expect(e.details.reason).toBe('node-unreachable');
  });

  it('"VM is locked" is a retryable refusal naming the lock', async () => {
    const scope = nock(BASE);
    reply(scope, `${API}/cluster/resources`, { data: [{ id: 'qemu/101', type: 'qemu', vmid: 101, node: 'node1', status: 'running', name: 'wide', lock: 'backup' }, { id: 'node/node1', type: 'node', node: 'node1', status: 'online' }, { id: 'node/node2', type: 'node', node: 'node2', status: 'online' }] });
    reply(scope, `${API}/cluster/status`, { data: [{ type: 'cluster', id: 'cluster', quorate: 1 }, { type: 'node', name: 'node1', online: 1 }, { type: 'node', name: 'node2', online: 1 }] });
    const e = await rejection((await provider()).migrate({ id: '101', name: 'wide' }, { id: 'node2', name: 'node2' }, { live: true }));
    expect(e.code).toBe(ErrorCodes.PROVIDER_REFUSED);
    expect(e.retryable).toBe(true);
    expect(e.details).toMatchObject({ reason: 'locked', lock: 'backup' });
    expect(scope.isDone()).toBe(true);
  });

  it('the same answer from the API ("VM 101 is locked (backup)") as an HTTP error', async () => {
    const scope = nock(BASE);
    reply(scope, `${API}/cluster/resources`, { data: [{ id: 'qemu/101', type: 'qemu', vmid: 101, node: 'node1', status: 'stopped', name: 'wide' }, { id: 'node/node1', type: 'node', node: 'node1', status: 'online' }, { id: 'node/node2', type: 'node', node: 'node2', status: 'online' }] });
    reply(scope, `${API}/cluster/status`, { data: [{ type: 'cluster', id: 'cluster', quorate: 1 }, { type: 'node', name: 'node1', online: 1 }, { type: 'node', name: 'node2', online: 1 }] });
    scope.get(`${API}/nodes/node1/qemu/101/migrate`).query(true).reply(200, JSON.stringify({ data: { running: 0, allowed_nodes: ['node2'], not_allowed_nodes: {}, local_disks: [], local_resources: [] } }), JSON_TYPE);
    // nock cannot set a reason phrase (where PVE puts the message); the body's "message" carries it here.
    scope.post(`${API}/nodes/node1/qemu/101/migrate`).reply(500, JSON.stringify({ data: null, message: 'VM 101 is locked (backup)\n' }), JSON_TYPE);
    const e = await rejection((await provider()).migrate({ id: '101', name: 'wide' }, { id: 'node2', name: 'node2' }, { live: true }));
    expect(e.details).toMatchObject({ reason: 'locked', lock: 'backup', status: 500 });
    expect(e.retryable).toBe(true);
  });
});

describe('proxmox provider: a POST is never sent twice', () => {
  const resources = { data: [{ id: 'qemu/101', type: 'qemu', vmid: 101, node: 'node1', status: 'running', name: 'wide' }, { id: 'node/node1', type: 'node', node: 'node1', status: 'online' }, { id: 'node/node2', type: 'node', node: 'node2', status: 'online' }] };
  const status = { data: [{ type: 'cluster', id: 'cluster', quorate: 1 }, { type: 'node', name: 'node1', online: 1 }, { type: 'node', name: 'node2', online: 1 }] };
  const pre = { data: { running: 1, allowed_nodes: ['node2'], not_allowed_nodes: {}, local_disks: [], local_resources: [] } };

  it('a migrate whose answer is lost after the server accepted it adopts the task it started', async () => {
    // The recorded answer of a migrate POST, with its start time set to now (the adoption only trusts tasks started since the attempt).
    const hexNow = Math.floor(Date.now() / 1000).toString(16).toUpperCase().padStart(8, '0');
    const started = (data('go-proxmox-pve9x-POST-qemu-101-migrate-UPID.json') as string).replace(/^(UPID:node1:0000B001:0000B001:)0000B001:/, `$1${hexNow}:`);
    const scope = nock(BASE);
    reply(scope, `${API}/cluster/resources`, resources);
    reply(scope, `${API}/cluster/status`, status);
    scope.get(`${API}/nodes/node1/qemu/101/migrate`).query(true).reply(200, JSON.stringify(pre), JSON_TYPE);
    // Accepted by the server, answer lost: the client gives up after its 600 ms timeout.
    const post = scope.post(`${API}/nodes/node1/qemu/101/migrate`, 'target=node2&online=1').once().delay(3_000).reply(200, JSON.stringify({ data: started }), JSON_TYPE);
    scope
      .get(`${API}/nodes/node1/tasks`)
      .query((q) => q.vmid === '101' && q.source === 'all')
      .reply(200, JSON.stringify({ data: [{ upid: started, node: 'node1', type: 'qmigrate', id: '101', user: 'root@pam', starttime: Math.floor(Date.now() / 1000), pid: 1, pstart: 1 }] }), JSON_TYPE);
    const ref = await (await provider()).migrate({ id: '101', name: 'wide' }, { id: 'node2', name: 'node2' }, { live: true });
    expect(ref).toEqual({ id: started, op: 'migrate' });
    expect(post.isDone()).toBe(true);
  });

  it('when no task appeared, it says trying again is safe (retryable), still after one POST', async () => {
    const scope = nock(BASE);
    reply(scope, `${API}/cluster/resources`, resources);
    reply(scope, `${API}/cluster/status`, status);
    scope.get(`${API}/nodes/node1/qemu/101/migrate`).query(true).reply(200, JSON.stringify(pre), JSON_TYPE);
    scope.post(`${API}/nodes/node1/qemu/101/migrate`).once().delay(3_000).reply(200, JSON.stringify({ data: 'UPID:node1:0000B001:0000B001:0000B001:qmigrate:101:root@pam:' }), JSON_TYPE);
    scope.get(`${API}/nodes/node1/tasks`).query(true).reply(200, JSON.stringify(fixture('go-proxmox-pve9x-cluster-tasks.json')), JSON_TYPE);
    const e = await rejection((await provider()).migrate({ id: '101', name: 'wide' }, { id: 'node2', name: 'node2' }, { live: true }));
    expect(e.code).toBe(ErrorCodes.PROVIDER_UNAVAILABLE);
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('trying again is safe');
    expect(scope.isDone()).toBe(true);
  });

  it('a repeat while the first migration still runs (lock "migrate") follows that task instead of starting another', async () => {
    const running = 'UPID:node1:0000B001:0000B001:0000B001:qmigrate:101:root@pam:';
    const scope = nock(BASE);
    reply(scope, `${API}/cluster/resources`, { data: [{ ...resources.data[0], lock: 'migrate' }, ...resources.data.slice(1)] });
    reply(scope, `${API}/cluster/status`, status);
    scope.get(`${API}/nodes/node1/tasks`).query(true).reply(200, JSON.stringify({ data: [{ upid: running, node: 'node1', type: 'qmigrate', id: '101', user: 'root@pam', starttime: 0xb001, pid: 1, pstart: 1 }] }), JSON_TYPE);
    const ref = await (await provider()).migrate({ id: '101', name: 'wide' }, { id: 'node2', name: 'node2' }, { live: true });
    expect(ref).toEqual({ id: running, op: 'migrate' });
    expect(scope.isDone()).toBe(true);
  });

  it('a GET that gets no answer moves on to the next configured node', async () => {
    const other = 'https://pve2.example:8006';
    nock(BASE).get(`${API}/nodes/node1/tasks/UPID:node1:00000001:00000001:00000001:test:running:root@pam:/status`).replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    reply(nock(other), `${API}/nodes/node1/tasks/UPID:node1:00000001:00000001:00000001:test:running:root@pam:/status`, fixture('go-proxmox-pve8x-task-status-running.json'));
    const p = await provider({ fallbackUrls: [other] });
    expect(await p.task({ id: 'UPID:node1:00000001:00000001:00000001:test:running:root@pam:', op: 'x' })).toEqual({ state: 'running' });
  });

  it('a POST that may have reached the server is not sent to another node', async () => {
    const other = 'https://pve2.example:8006';
    const scope = nock(BASE);
    reply(scope, `${API}/cluster/resources`, resources);
    reply(scope, `${API}/cluster/status`, status);
    scope.get(`${API}/nodes/node1/qemu/101/migrate`).query(true).reply(200, JSON.stringify(pre), JSON_TYPE);
    scope.post(`${API}/nodes/node1/qemu/101/migrate`).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    scope.get(`${API}/nodes/node1/tasks`).query(true).reply(200, JSON.stringify({ data: [] }), JSON_TYPE);
    const elsewhere = nock(other).post(`${API}/nodes/node1/qemu/101/migrate`).reply(200, JSON.stringify({ data: 'UPID:node1:0000B001:0000B001:0000B001:qmigrate:101:root@pam:' }), JSON_TYPE);
    const e = await rejection((await provider({ fallbackUrls: [other] })).migrate({ id: '101', name: 'wide' }, { id: 'node2', name: 'node2' }, { live: true }));
    expect(e.retryable).toBe(true);
    expect(elsewhere.isDone()).toBe(false);
    expect(scope.isDone()).toBe(true);
  });
});
