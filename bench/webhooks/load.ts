/**
 * The traffic bench/webhooks sends: a deterministic mix over the three
 * routes, built on the real VEBA samples in test/fixtures/webhooks, naming
 * the lab's hosts. Every request is distinct (fresh ids, vCenter Keys and
 * signatures) except a tenth that repeat an earlier event on purpose; half
 * carry a Bearer token, half a timestamped HMAC signature.
 *
 *   35% vSphere binary mode: HostConnectionLostEvent on a lab host
 *   10% vSphere structured: the real red host alarm, retargeted to a lab host
 *   10% vSphere binary: a real VmMigratedEvent (ignored)
 *   15% Proxmox: a fencing notification (the documented template's shape)
 *   15% generic
 *    5% generic about a host nobody has (unresolved)
 *   10% an earlier vSphere event delivered again (duplicate)
 */
import { readFileSync } from 'node:fs';
import { builtinPath } from '../../src/paths.js';
import { signBody } from '../../src/service/hooks/auth.js';

export const BENCH_TOKEN = 'bench-token-0123456789abcdef';
export const BENCH_SECRET = 'bench-hmac-secret-0123456789abcdef';

const HOSTS = ['esx-01', 'esx-02', 'esx-03', 'esx-04'];

export interface BenchRequest {
  readonly method: 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(builtinPath('test', 'fixtures', 'webhooks', name), 'utf8')) as Record<string, unknown>;

export function requestMix(): (i: number) => BenchRequest {
  const alarm = sample('veba-cloudevent-AlarmStatusChangedEvent-host-red-router.json');
  const migrated = sample('veba-data-VmMigratedEvent.json');
  const vmOff = sample('veba-data-VmPoweredOffEvent.json');
  const recent: BenchRequest[] = [];

  const auth = (i: number, body: string): Record<string, string> => (i % 2 ? { authorization: `Bearer ${BENCH_TOKEN}` } : signBody(BENCH_SECRET, body, Math.floor(Date.now() / 1000)));
  const binary = (i: number, type: string, data: unknown): BenchRequest => {
    const body = JSON.stringify(data);
    return {
      method: 'POST',
      path: '/hooks/vsphere',
      headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': `bench-${i}`, 'ce-source': 'https://vc.bench/sdk', 'ce-type': type, 'ce-time': new Date().toISOString(), ...auth(i, body) },
      body,
    };
  };
  const json = (i: number, path: string, data: unknown, contentType = 'application/json'): BenchRequest => {
    const body = JSON.stringify(data);
    return { method: 'POST', path, headers: { 'content-type': contentType, ...auth(i, body) }, body };
  };

  return (i) => {
    const host = HOSTS[i % HOSTS.length] as string;
    const slot = i % 20;
    let r: BenchRequest;
    if (slot < 7) r = binary(i, 'com.vmware.vsphere.HostConnectionLostEvent.v0', { ...vmOff, Key: i, Vm: null, UserName: '', Host: { Name: host }, FullFormattedMessage: `Host ${host} in lab is not responding` });
    else if (slot < 9) {
      const data = { ...(alarm.data as Record<string, unknown>), Key: i, Entity: { Name: host, Entity: { Type: 'HostSystem', Value: 'host-1' } } };
      r = json(i, '/hooks/vsphere', { ...alarm, id: `bench-${i}`, data }, 'application/cloudevents+json');
    } else if (slot < 11) r = binary(i, 'com.vmware.vsphere.VmMigratedEvent.v0', { ...migrated, Key: i });
    else if (slot < 14) r = json(i, '/hooks/proxmox', { title: `Trying to fence node '${host}'`, message: `The node '${host}' failed`, severity: 'error', timestamp: Math.floor(Date.now() / 1000) + i, fields: { type: 'fencing', hostname: host } });
    else if (slot < 17) r = json(i, '/hooks/generic', { cluster: 'lab', host, severity: 'critical', message: `check ${i}` });
    else if (slot < 18) r = json(i, '/hooks/generic', { host: `ghost-${i % 7}`, severity: 'warning' });
    else {
      // Resend an earlier vSphere event (same id and Key) with a Bearer token: an exact replay of a signature is refused by design (401), a redelivered event is not.
      const earlier = recent[(i * 7) % Math.max(1, recent.length)];
      const { 'x-vigil-signature': _s, 'x-vigil-timestamp': _t, ...rest } = earlier?.headers ?? {};
      r = earlier ? { ...earlier, headers: { ...rest, authorization: `Bearer ${BENCH_TOKEN}` } } : binary(i, 'com.vmware.vsphere.HostConnectionLostEvent.v0', { Key: i, Host: { Name: host } });
    }
    if (r.path === '/hooks/vsphere' && slot < 9) {
      recent.push(r);
      if (recent.length > 50) recent.shift();
    }
    return r;
  };
}
