/**
 * /hooks/vsphere with the VMware Event Broker Appliance's own samples
 * (test/fixtures/webhooks), in structured mode (the whole CloudEvent as the
 * body) and binary mode (ce-* headers, the vCenter event as the body, as
 * VEBA's broker sends by default), in the current `com.vmware.vsphere.<X>.v0`
 * form and the older `com.vmware.event.router/event` + subject form.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, fixture, fixtureJson, harness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const structured = (body: unknown, contentType = 'application/cloudevents+json') => ({
  method: 'POST' as const,
  url: '/hooks/vsphere',
  headers: { ...bearer, 'content-type': contentType },
  payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
});

/** Binary mode, with the headers VEBA's docs list (Ce-Id, Ce-Source, Ce-Specversion, Ce-Time, Ce-Type, Content-Type). */
const binary = (type: string, data: unknown, id = 'd70079f9-fddd-4b7f-aa76-1193f28b0611', extra: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url: '/hooks/vsphere',
  headers: {
    ...bearer,
    'content-type': 'application/json',
    'ce-id': id,
    'ce-source': 'https://vcenter.local/sdk',
    'ce-specversion': '1.0',
    'ce-time': '2021-09-27T19:02:54.063Z',
    'ce-type': type,
    ...extra,
  },
  payload: typeof data === 'string' ? data : JSON.stringify(data),
});

describe('/hooks/vsphere with real VEBA events', () => {
  it('ignores a VM powered off by a user, politely and counted (structured, current type)', async () => {
    h = harness();
    const r = await h.app.inject(structured(fixture('veba-cloudevent-VmPoweredOffEvent-v0.json')));
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'ignored', reason: 'powered off by VSPHERE.LOCAL\\Administrator' });
    expect(h.hints).toEqual([]);
    expect(h.hooks.stats().ignored).toEqual({ VmPoweredOffEvent: 1 });
  });

  it('hints the host when a VM powers off without anyone asking (same event, no user)', async () => {
    h = harness();
    const t0 = h.clock.now();
    for (const name of ['veba-cloudevent-VmPoweredOffEvent-v0.json', 'veba-cloudevent-VmPoweredOffEvent-router.json']) {
      const ce = fixtureJson(name);
      ce.id = `${ce.id}-${name}`;
      ce.data.Key += name.length;
      ce.data.UserName = '';
      const r = await h.app.inject(structured(ce));
      expect(r.statusCode).toBe(202);
      expect(r.json().status).toBe('accepted');
      await h.clock.advance(5_000);
    }
    expect(h.hints).toHaveLength(2);
    for (const { cluster, hint } of h.hints) {
      expect(cluster).toBe('prod');
      expect(hint).toMatchObject({ host: '10.185.22.74', source: 'vsphere', event: 'VmPoweredOffEvent', kind: 'vm-stopped', severity: 'error', message: 'test-01 on 10.0.0.1 in testDC is powered off' });
      expect(hint.eventTime).toBe(Date.parse('2020-02-11T21:28:23.677595Z'));
    }
    expect(h.hints.map((x) => x.hint.at)).toEqual([t0, t0 + 5_000]);
  });

  it('maps a red alarm on a host (older router form, real event) to that host', async () => {
    h = harness();
    const r = await h.app.inject(structured(fixture('veba-cloudevent-AlarmStatusChangedEvent-host-red-router.json')));
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'prod', host: '10.161.167.160' }] });
    expect(h.hints[0]?.hint).toMatchObject({ kind: 'host-alarm', event: 'AlarmStatusChangedEvent', message: "Alarm 'cluster-cpu-above-80' on 10.161.167.160 changed from Green to Red" });
  });

  it('reads binary mode: vSphere HA acting on a cluster hints that whole cluster', async () => {
    h = harness();
    const data = fixture('veba-data-HA-ClusterFailoverActionCompletedEvent.json');
    const r = await h.app.inject(binary('com.vmware.vsphere.com.vmware.vc.HA.ClusterFailoverActionCompletedEvent.v0', data));
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'ha-lab' }] });
    expect(h.hints[0]?.hint).toMatchObject({ kind: 'cluster', event: 'com.vmware.vc.HA.ClusterFailoverActionCompletedEvent' });
    expect(h.hints[0]?.hint.host).toBeUndefined();
  });

  it('ignores a host disconnected on request (an operator did it)', async () => {
    h = harness();
    const data = { ...fixtureJson('veba-data-EnteredMaintenanceModeEvent.json'), Reason: 'userRequest' };
    const r = await h.app.inject(binary('com.vmware.vsphere.HostDisconnectedEvent.v0', data));
    expect(r.json()).toEqual({ status: 'ignored', reason: 'disconnected on request' });
  });

  it('ignores the rest in binary mode, counted by type', async () => {
    h = harness();
    const cases: [string, string, string][] = [
      ['com.vmware.vsphere.DrsVmPoweredOnEvent.v0', 'veba-docs-eventspec-DrsVmPoweredOnEvent-body.json', 'DrsVmPoweredOnEvent is not an event Vigil acts on'],
      ['com.vmware.vsphere.AlarmStatusChangedEvent.v0', 'veba-data-AlarmStatusChangedEvent-datastore.json', 'alarm changed to yellow, not red'],
      ['com.vmware.vsphere.AlarmStatusChangedEvent.v0', 'veba-data-AlarmStatusChangedEvent-2.json', 'alarm changed to yellow, not red'],
      ['com.vmware.vsphere.EnteredMaintenanceModeEvent.v0', 'veba-data-EnteredMaintenanceModeEvent.json', 'EnteredMaintenanceModeEvent is not an event Vigil acts on'],
      ['com.vmware.vsphere.VmMigratedEvent.v0', 'veba-data-VmMigratedEvent.json', 'VmMigratedEvent is not an event Vigil acts on'],
      ['com.vmware.vsphere.VmPoweredOffEvent.v0', 'veba-data-VmPoweredOffEvent.json', 'powered off by VSPHERE.LOCAL\\Administrator'],
    ];
    let i = 0;
    for (const [type, file, reason] of cases) {
      const r = await h.app.inject(binary(type, fixture(file), `id-${i++}`));
      expect(r.statusCode, file).toBe(202);
      expect(r.json(), file).toEqual({ status: 'ignored', reason });
    }
    expect(h.hints).toEqual([]);
    expect(h.hooks.stats().ignored).toEqual({ DrsVmPoweredOnEvent: 1, AlarmStatusChangedEvent: 2, EnteredMaintenanceModeEvent: 1, VmMigratedEvent: 1, VmPoweredOffEvent: 1 });
  });

  it('reads the other real samples: CloudEvents 0.3 from Knative, an OpenFaaS-era router event, a DRS power-on', async () => {
    h = harness();
    for (const name of ['veba-cloudevent-VmPoweredOffEvent-v0-knative.json', 'veba-openfaas-cloudevent-VmReconfiguredEvent.json', 'veba-cloudevent-DrsVmPoweredOnEvent-v0.json']) {
      const r = await h.app.inject(structured(fixture(name)));
      expect(r.statusCode, name).toBe(202);
      expect(r.json().status, name).toBe('ignored');
    }
    expect(h.hooks.stats().ignored).toEqual({ VmPoweredOffEvent: 1, VmReconfiguredEvent: 1, DrsVmPoweredOnEvent: 1 });
  });

  it('accepts a structured event sent as plain application/json, as curl and simple relays do', async () => {
    h = harness();
    const r = await h.app.inject(structured(fixture('veba-cloudevent-AlarmStatusChangedEvent-host-red-router.json'), 'application/json'));
    expect(r.statusCode).toBe(202);
    expect(r.json().status).toBe('accepted');
  });
});

describe('/hooks/vsphere maps the events that matter', () => {
  // Events with no public VEBA sample: built on a real sample's shape (the vCenter Event base fields), with the
  // event-specific arguments the vSphere API documents (DasHostFailedEvent.failedHost, EventEx ObjectType/ObjectName).
  const base = () => {
    const d = fixtureJson('veba-data-VmPoweredOffEvent.json');
    return { ...d, Vm: null, UserName: '', FullFormattedMessage: 'something happened' };
  };
  const cases: { type: string; data: Record<string, unknown>; kind: string; cluster: string; host?: string }[] = [
    { type: 'HostConnectionLostEvent', data: base(), kind: 'host-unreachable', cluster: 'prod', host: '192.168.30.5' },
    { type: 'HostDisconnectedEvent', data: { ...base(), Reason: 'unknown' }, kind: 'host-unreachable', cluster: 'prod', host: '192.168.30.5' },
    { type: 'DasHostFailedEvent', data: { ...base(), Host: null, FailedHost: { Name: 'esxi1.local', Host: { Type: 'HostSystem', Value: 'host-34' } } }, kind: 'host-unreachable', cluster: 'prod', host: 'esxi1.local' },
    { type: 'DasHostIsolatedEvent', data: { ...base(), Host: null, IsolatedHost: { Name: 'esxi1.local' } }, kind: 'host-unreachable', cluster: 'prod', host: 'esxi1.local' },
    { type: 'com.vmware.vc.HA.DasHostFailedEvent', data: { ...base(), Host: null, EventTypeId: 'com.vmware.vc.HA.DasHostFailedEvent', ObjectType: 'HostSystem', ObjectName: '10.185.22.74' }, kind: 'host-unreachable', cluster: 'prod', host: '10.185.22.74' },
    { type: 'esx.problem.storage.apd.start', data: { ...base(), EventTypeId: 'esx.problem.storage.apd.start' }, kind: 'storage', cluster: 'prod', host: '192.168.30.5' },
    { type: 'com.vmware.vc.ha.VmRestartedByHAEvent', data: { ...base(), ComputeResource: { Name: 'cls' } }, kind: 'cluster', cluster: 'prod' },
    { type: 'VmFailoverFailed', data: base(), kind: 'vm-stopped', cluster: 'prod', host: '192.168.30.5' },
  ];
  for (const c of cases) {
    for (const form of ['current', 'router', 'binary'] as const) {
      it(`${c.type} (${form})`, async () => {
        h = harness();
        const request =
          form === 'binary'
            ? binary(`com.vmware.vsphere.${c.type}.v0`, c.data)
            : structured({
                specversion: '1.0',
                id: 'a1b2',
                source: 'https://vc01.example/sdk',
                ...(form === 'current' ? { type: `com.vmware.vsphere.${c.type}.v0` } : c.type.includes('.') ? { type: 'com.vmware.event.router/eventex', subject: c.type } : { type: 'com.vmware.event.router/event', subject: c.type }),
                datacontenttype: 'application/json',
                data: c.data,
              });
        const r = await h.app.inject(request);
        expect(r.statusCode).toBe(202);
        expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: c.cluster, ...(c.host ? { host: c.host } : {}) }] });
        expect(h.hints[0]?.hint.kind).toBe(c.kind);
      });
    }
  }
});

describe('/hooks/vsphere refuses what it cannot read', () => {
  const cases: [string, ReturnType<typeof structured> | ReturnType<typeof binary>, RegExp][] = [
    ['a body that is not JSON', structured('{"specversion": "1.0", '), /^body is not JSON/],
    ['JSON that is not a CloudEvent', structured({ hello: 'world' }, 'application/json'), /^not a CloudEvent/],
    ['a JSON array', structured([1, 2, 3]), /^not a CloudEvent/],
    ['a CloudEvent without an id', structured({ specversion: '1.0', source: 's', type: 't' }), /id is missing/],
    ['an unknown specversion', structured({ specversion: '2.0', id: 'x', source: 's', type: 't' }), /specversion/],
    ['a batch', structured('[]', 'application/cloudevents-batch+json'), /batched/],
    ['binary mode without ce-source', binary('com.vmware.vsphere.HostConnectionLostEvent.v0', {}, 'x', { 'ce-source': '' }), /source is missing/],
    ['binary mode with data that is not JSON', binary('com.vmware.vsphere.HostConnectionLostEvent.v0', 'not json'), /^body is not JSON/],
    ['binary mode with non-JSON data', binary('com.vmware.vsphere.HostConnectionLostEvent.v0', 'x', 'x', { 'content-type': 'text/plain' }), /must be JSON/],
    ['bytes that are not UTF-8', structured(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), /body is not JSON \(not UTF-8\)/],
  ];
  for (const [what, request, reason] of cases) {
    it(`400 for ${what}`, async () => {
      h = harness();
      const r = await h.app.inject(request);
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toMatch(reason);
      expect(r.json().error.length).toBeLessThan(200);
      expect(h.hints).toEqual([]);
    });
  }
});

describe('/hooks/vsphere with hosts Vigil does not know', () => {
  it('answers 202 with a warning, and logs it once a minute however often it comes', async () => {
    h = harness();
    for (let i = 0; i < 5; i++) {
      const r = await h.app.inject(binary('com.vmware.vsphere.HostConnectionLostEvent.v0', { Key: 100 + i, Host: { Name: 'esx-99.corp' } }, `id-${i}`));
      expect(r.statusCode).toBe(202);
      expect(r.json()).toEqual({ status: 'unresolved', warnings: ['no Vigil cluster matches host "esx-99.corp"'] });
    }
    expect(h.hints).toEqual([]);
    expect(h.warnings()).toEqual(['webhook: no Vigil cluster matches host "esx-99.corp"']);
    expect(h.hooks.stats().unresolved).toBe(5);
    await h.clock.advance(61_000);
    await h.app.inject(binary('com.vmware.vsphere.HostConnectionLostEvent.v0', { Key: 200, Host: { Name: 'esx-99.corp' } }, 'id-later'));
    expect(h.warnings()).toHaveLength(2);
    expect(h.logs.at(-1)).toMatchObject({ suppressed: 4 });
  });

  it('finds a host under another spelling (case, or a domain the inventory omits)', async () => {
    h = harness();
    const r = await h.app.inject(binary('com.vmware.vsphere.HostConnectionLostEvent.v0', { Key: 1, Host: { Name: 'ESX-03.lab.example' } }));
    expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'lab', host: 'esx-03' }] });
    expect(h.hints[0]?.hint.host).toBe('esx-03');
  });

  it('lets a known vCenter cluster look at itself when the host is new to Vigil', async () => {
    h = harness();
    const r = await h.app.inject(binary('com.vmware.vsphere.HostConnectionLostEvent.v0', { Key: 1, Host: { Name: 'esx-new' }, ComputeResource: { Name: 'CL1' } }));
    expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'ha-lab' }], warnings: ['cluster "ha-lab" has no host "esx-new"; it will look at the whole cluster'] });
  });
});
