/**
 * What no simulator produces: recorded answers of a real vCenter (parser
 * tests), paged RetrievePropertiesEx results, broken and foreign answers,
 * slow answers. HTTP is mocked with nock here and only here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import { ErrorCodes, isVigilError, type VigilError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import vsphereModule, { type VsphereProvider } from '../../../providers/vsphere/index.js';
import { translate } from '../../../providers/vsphere/errors.js';
import { InventoryCache } from '../../../providers/vsphere/inventory.js';
import { Session } from '../../../providers/vsphere/session.js';
import { SoapFault, SoapProtocolError, SoapTransport } from '../../../providers/vsphere/soap.js';
import { child, moRef, parseXml, xsiType } from '../../../providers/vsphere/xml.js';

const BASE = 'http://vcenter.test';
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'vsphere', name), 'utf8');

const XSI_ENVELOPE = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n<soapenv:Body>\n${body}\n</soapenv:Body>\n</soapenv:Envelope>`;

const calledWith = (method: string) => (body: string) => body.includes(`<${method} xmlns="urn:vim25">`);

function transport(timeoutMs = 2_000): SoapTransport {
  return new SoapTransport({ url: `${BASE}/sdk`, timeoutMs });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

beforeAll(() => {
  nock.disableNetConnect();
});

afterEach(() => {
  nock.cleanAll();
});

describe('vSphere SOAP answers recorded from real vCenters', () => {
  it('reads both recorded InvalidLogin faults as typed faults', async () => {
    for (const name of ['govmomi-soap-fault-InvalidLogin.xml', 'pyvmomi-Login-fault-InvalidLogin-http500.xml']) {
      nock(BASE).post('/sdk', calledWith('Login')).reply(500, fixture(name), { 'Content-Type': 'text/xml; charset=utf-8' });
      const e = await rejection(transport().call('Login', '<Login xmlns="urn:vim25"></Login>'));
      expect(e).toBeInstanceOf(SoapFault);
      expect(e).toMatchObject({ faultType: 'InvalidLogin', faultString: 'Cannot complete login due to an incorrect user name or password.', status: 500 });
      expect(translate(e, 'read cluster c', { username: 'svc' })).toMatchObject({ code: ErrorCodes.PROVIDER_REFUSED, expected: true, retryable: false });
    }
  });

  it('reads the service content of a vCenter 8 and keeps the session cookie vCenter sets', async () => {
    nock(BASE).post('/sdk', calledWith('RetrieveServiceContent')).reply(200, fixture('pyvmomi-RetrieveServiceContentResponse.xml'));
    nock(BASE)
      .post('/sdk', calledWith('Login'))
      .reply(200, fixture('pyvmomi-LoginResponse.xml'), { 'Set-Cookie': 'vmware_soap_session="52a67ed8"; Path=/; HttpOnly; Secure;' });
    nock(BASE)
      .post('/sdk', calledWith('CreateContainerView'))
      .matchHeader('cookie', 'vmware_soap_session="52a67ed8"')
      .reply(200, fixture('pyvmomi-CreateContainerViewResponse.xml'));
    const t = transport();
    const s = new Session(t, { username: 'my_user', password: 'x' });
    const sc = await s.serviceContent();
    expect(sc).toMatchObject({ rootFolder: { type: 'Folder', value: 'group-d1' }, propertyCollector: { type: 'PropertyCollector', value: 'propertyCollector' }, viewManager: { type: 'ViewManager', value: 'ViewManager' }, apiType: 'VirtualCenter' });
    expect(sc.apiVersion).toMatch(/^8\./);
    const view = await s.call('CreateContainerView', sc.viewManager, '');
    expect(moRef(child(view.body, 'returnval'))).toEqual({ type: 'ContainerView', value: 'session[52bb85b0-adbe-7f20-156d-6130b6dc066e]5286fa88-7318-63fc-4917-f258ec859d33' });
  });

  it('finds the xsi type whatever prefix the server bound to the namespace', () => {
    const real = parseXml(fixture('pyvmomi-FetchResponse-VirtualMachine-runtime.xml'));
    const rv = child(child(child(child(real.root, 'Envelope'), 'Body'), 'FetchResponse'), 'returnval');
    expect(xsiType(rv, real.xsiPrefixes)).toBe('VirtualMachineRuntimeInfo');
    expect(moRef(child(rv, 'host'))).toEqual({ type: 'HostSystem', value: 'host-16' });
    const sim = parseXml(
      '<Envelope><Body><R><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="ManagedObjectReference" type="VirtualMachine">vm-1</val><other xmlns:q="urn:not-xsi" q:type="Nope"/></R></Body></Envelope>',
    );
    const r = child(child(child(sim.root, 'Envelope'), 'Body'), 'R');
    expect(xsiType(child(r, 'val'), sim.xsiPrefixes)).toBe('ManagedObjectReference');
    expect(moRef(child(r, 'val')), 'the MoRef type survives the xsi type').toEqual({ type: 'VirtualMachine', value: 'vm-1' });
    expect(xsiType(child(r, 'other'), sim.xsiPrefixes), 'a type attribute in another namespace is not an xsi type').toBeUndefined();
  });

  it('maps a recorded vSAN datastore’s host mounts', () => {
    const doc = parseXml(fixture('pyvmomi-FetchResponse-Datastore-host.xml'));
    const mounts = child(child(child(child(doc.root, 'Envelope'), 'Body'), 'FetchResponse'), 'returnval');
    const cache = new InventoryCache();
    const host = (moid: string) => ({ obj: { type: 'HostSystem', value: moid }, props: new Map([['name', `esx-${moid}`], ['runtime.connectionState', 'connected']]), missing: [] });
    cache.replaceAll([
      host('host-12'),
      host('host-14'),
      host('host-15'),
      host('host-16'),
      { obj: { type: 'Datastore', value: 'datastore-17' }, props: new Map([['name', 'vsanDatastore'], ['host', mounts], ['summary.accessible', 'true'], ['summary.type', 'vsan']]), missing: [] },
    ]);
    const ds = cache.snapshot('c', 'vsphere', 0).datastores[0];
    expect(ds).toEqual({ name: 'vsanDatastore', id: 'datastore-17', capacityGiB: null, freeGiB: null, hosts: ['esx-host-12', 'esx-host-14', 'esx-host-15', 'esx-host-16'], accessible: true, inaccessibleOn: [], type: 'vsan' });
  });
});

describe('vSphere sessions and paging (mocked vCenter)', () => {
  it('logs in again once when RetrieveProperties reports NotAuthenticated in missingSet, and not twice', async () => {
    const notAuth = XSI_ENVELOPE(fixture('govmomi-RetrievePropertiesResponse-missingSet-NotAuthenticated.xml').replace(/^<\?xml[^>]*>\s*/, ''));
    nock(BASE).post('/sdk', calledWith('RetrieveServiceContent')).reply(200, fixture('pyvmomi-RetrieveServiceContentResponse.xml'));
    nock(BASE).post('/sdk', calledWith('Login')).times(2).reply(200, fixture('pyvmomi-LoginResponse.xml'), { 'Set-Cookie': 'vmware_soap_session="k"; Path=/' });
    nock(BASE).post('/sdk', calledWith('RetrieveProperties')).reply(200, notAuth);
    nock(BASE).post('/sdk', calledWith('RetrieveProperties')).reply(200, XSI_ENVELOPE('<RetrievePropertiesResponse xmlns="urn:vim25"></RetrievePropertiesResponse>'));
    const t = transport();
    const s = new Session(t, { username: 'u', password: 'p' });
    await s.call('RetrieveProperties', { type: 'PropertyCollector', value: 'propertyCollector' }, '');
    expect(t.calls.get('Login')).toBe(2);
    expect(s.generation).toBe(2);

    nock(BASE).post('/sdk', calledWith('RetrieveProperties')).times(2).reply(200, notAuth);
    nock(BASE).post('/sdk', calledWith('Login')).reply(200, fixture('pyvmomi-LoginResponse.xml'));
    const e = await rejection(s.call('RetrieveProperties', { type: 'PropertyCollector', value: 'propertyCollector' }, ''));
    expect(e).toMatchObject({ faultType: 'NotAuthenticated' });
    expect(t.calls.get('Login'), 'one re-login per call, not a loop').toBe(3);
  });

  it('follows ContinueRetrievePropertiesEx pages into one snapshot', async () => {
    const val = (type: string, v: string, attrs = '') => `<val xsi:type="${type}"${attrs}>${v}</val>`;
    const prop = (name: string, v: string) => `<propSet><name>${name}</name>${v}</propSet>`;
    const host = (moid: string, name: string) =>
      `<objects><obj type="HostSystem">${moid}</obj>${prop('name', val('xsd:string', name))}${prop('runtime.connectionState', val('HostSystemConnectionState', 'connected'))}${prop('runtime.inMaintenanceMode', val('xsd:boolean', 'false'))}${prop('summary.hardware.numCpuThreads', val('xsd:short', '64'))}${prop('summary.hardware.memorySize', val('xsd:long', String(512 * 2 ** 30)))}</objects>`;
    const vm = (moid: string, name: string, uuid: string, hostMoid: string) =>
      `<objects><obj type="VirtualMachine">${moid}</obj>${prop('name', val('xsd:string', name))}${prop('config.instanceUuid', val('xsd:string', uuid))}${prop('config.template', val('xsd:boolean', 'false'))}${prop('config.hardware.numCPU', val('xsd:int', '4'))}${prop('config.hardware.memoryMB', val('xsd:int', '16384'))}${prop('runtime.host', val('ManagedObjectReference', hostMoid, ' type="HostSystem"'))}${prop('runtime.powerState', val('VirtualMachinePowerState', 'poweredOn'))}${prop('datastore', '<val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore" xsi:type="ManagedObjectReference">datastore-17</ManagedObjectReference></val>')}</objects>`;
    const mounts = fixture('pyvmomi-FetchResponse-Datastore-host.xml').match(/<returnval xsi:type="ArrayOfDatastoreHostMount">(.*)<\/returnval>/s)?.[1] ?? '';
    const ds = `<objects><obj type="Datastore">datastore-17</obj>${prop('name', val('xsd:string', 'vsanDatastore'))}${prop('summary.accessible', val('xsd:boolean', 'true'))}${prop('summary.capacity', val('xsd:long', String(8 * 2 ** 40)))}${prop('summary.freeSpace', val('xsd:long', String(3 * 2 ** 40)))}${prop('summary.type', val('xsd:string', 'vsan'))}${prop('host', `<val xsi:type="ArrayOfDatastoreHostMount">${mounts}</val>`)}</objects>`;
    const rpx = (objects: string, token?: string) => XSI_ENVELOPE(`<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>${token ? `<token>${token}</token>` : ''}${objects}</returnval></RetrievePropertiesExResponse>`);

    nock(BASE).post('/sdk', calledWith('RetrieveServiceContent')).reply(200, fixture('pyvmomi-RetrieveServiceContentResponse.xml'));
    nock(BASE).post('/sdk', calledWith('Login')).reply(200, fixture('pyvmomi-LoginResponse.xml'), { 'Set-Cookie': 'vmware_soap_session="k"; Path=/' });
    nock(BASE)
      .post('/sdk', (b: string) => b.includes('<FindByInventoryPath') && b.includes('<inventoryPath>DC1</inventoryPath>'))
      .reply(200, XSI_ENVELOPE('<FindByInventoryPathResponse xmlns="urn:vim25"><returnval type="Datacenter">datacenter-3</returnval></FindByInventoryPathResponse>'));
    nock(BASE)
      .post('/sdk', (b: string) => b.includes('<RetrievePropertiesEx') && b.includes('<pathSet>vmFolder</pathSet>'))
      .reply(200, rpx(`<objects><obj type="Datacenter">datacenter-3</obj>${prop('vmFolder', val('ManagedObjectReference', 'group-v4', ' type="Folder"'))}</objects>`));
    nock(BASE)
      .post('/sdk', (b: string) => b.includes('<FindByInventoryPath') && b.includes('<inventoryPath>DC1/host/Cluster01</inventoryPath>'))
      .reply(200, XSI_ENVELOPE('<FindByInventoryPathResponse xmlns="urn:vim25"><returnval type="ClusterComputeResource">domain-c8</returnval></FindByInventoryPathResponse>'));
    nock(BASE).post('/sdk', calledWith('CreateContainerView')).reply(200, fixture('pyvmomi-CreateContainerViewResponse.xml'));
    nock(BASE)
      .post('/sdk', (b: string) => b.includes('<RetrievePropertiesEx') && b.includes('<maxObjects>3</maxObjects>') && b.includes('<obj type="ClusterComputeResource">domain-c8</obj>'))
      .reply(200, rpx(host('host-12', 'esx-12') + host('host-14', 'esx-14') + host('host-15', 'esx-15'), 'page-2'));
    nock(BASE)
      .post('/sdk', (b: string) => b.includes('<ContinueRetrievePropertiesEx') && b.includes('<token>page-2</token>'))
      .reply(200, XSI_ENVELOPE(`<ContinueRetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>page-3</token>${host('host-16', 'esx-16')}${ds}${vm('vm-19', 'db-01', '5011-aaaa', 'host-16')}</returnval></ContinueRetrievePropertiesExResponse>`));
    nock(BASE)
      .post('/sdk', (b: string) => b.includes('<ContinueRetrievePropertiesEx') && b.includes('<token>page-3</token>'))
      .reply(200, XSI_ENVELOPE(`<ContinueRetrievePropertiesExResponse xmlns="urn:vim25"><returnval>${vm('vm-20', 'web-01', '5011-bbbb', 'host-12')}</returnval></ContinueRetrievePropertiesExResponse>`));

    const config = vsphereModule.configSchema.parse({ name: 'prod', provider: 'vsphere', url: `${BASE}/sdk`, username: 'u', password: 'p', datacenter: 'DC1', cluster: 'Cluster01', pageSize: 3 });
    const p = (await vsphereModule.create(config, { clock: new SystemClock(), logger: silentLogger(), baseDir: '.', purpose: 'oneshot' })) as VsphereProvider;
    const snap = await p.snapshot();
    expect(snap.hosts.map((h) => [h.name, h.cpu, h.memoryGiB, h.state])).toEqual([
      ['esx-12', 64, 512, 'connected'],
      ['esx-14', 64, 512, 'connected'],
      ['esx-15', 64, 512, 'connected'],
      ['esx-16', 64, 512, 'connected'],
    ]);
    expect(snap.vms).toEqual([
      { name: 'db-01', id: '5011-aaaa', host: 'esx-16', cpu: 4, memoryGiB: 16, power: 'on', datastores: ['vsanDatastore'], labels: {} },
      { name: 'web-01', id: '5011-bbbb', host: 'esx-12', cpu: 4, memoryGiB: 16, power: 'on', datastores: ['vsanDatastore'], labels: {} },
    ]);
    expect(snap.datastores[0]).toMatchObject({ name: 'vsanDatastore', capacityGiB: 8192, freeGiB: 3072, hosts: ['esx-12', 'esx-14', 'esx-15', 'esx-16'], accessible: true, type: 'vsan' });
    expect(p.transport.calls.get('ContinueRetrievePropertiesEx')).toBe(2);
    expect(nock.isDone()).toBe(true);
  });
});

describe('answers that are not SOAP, or do not come', () => {
  const cases: [string, () => void, RegExp, string][] = [
    ['XML cut short', () => nock(BASE).post('/sdk').reply(200, XSI_ENVELOPE('<CurrentTimeResponse xmlns="urn:vim25"><returnval>2024').slice(0, 300)), /CurrentTime: answered HTTP 200 with a SOAP answer that was cut short/, 'xml'],
    ['XML that does not parse', () => nock(BASE).post('/sdk').reply(200, XSI_ENVELOPE('<CurrentTimeResponse xmlns="urn:vim25"><returnval <<< </CurrentTimeResponse>')), /CurrentTime: the answer is not well-formed XML/, 'xml'],
    ['a proxy’s HTML page', () => nock(BASE).post('/sdk').reply(502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', { 'Content-Type': 'text/html' }), /CurrentTime: answered with an HTML page \(HTTP 502: 502 Bad Gateway\)/, 'html'],
    ['an empty 500', () => nock(BASE).post('/sdk').reply(500, ''), /CurrentTime: answered HTTP 500 with an empty body/, 'http'],
    ['a SOAP answer without the expected element', () => nock(BASE).post('/sdk').reply(200, XSI_ENVELOPE('<SomethingElse xmlns="urn:vim25"/>')), /CurrentTime: answered without a CurrentTimeResponse element/, 'xml'],
    ['no answer in time', () => nock(BASE).post('/sdk').delay(1_000).reply(200, XSI_ENVELOPE('<CurrentTimeResponse xmlns="urn:vim25"/>')), /CurrentTime: no answer within 0\.2s/, 'timeout'],
  ];
  for (const [name, arrange, message, problem] of cases) {
    it(`${name} is a retryable error naming the call`, async () => {
      arrange();
      const e = await rejection(transport(200).call('CurrentTime', '<CurrentTime xmlns="urn:vim25"/>'));
      expect(e).toBeInstanceOf(SoapProtocolError);
      expect((e as SoapProtocolError).problem).toBe(problem);
      const v = translate(e, 'read cluster prod');
      expect(v).toMatchObject({ code: ErrorCodes.PROVIDER_UNAVAILABLE, retryable: true });
      expect(v.message).toMatch(message);
    });
  }

  it('never puts the password into an error, whatever fails', async () => {
    const password = 'S3cr3t<&>"pass';
    const config = vsphereModule.configSchema.parse({ name: 'prod', provider: 'vsphere', url: `${BASE}/sdk`, username: 'svc', password, timeout: '200ms' });
    const errors: VigilError[] = [];
    const attempt = async (arrangeLogin: () => void) => {
      nock(BASE).post('/sdk', calledWith('RetrieveServiceContent')).reply(200, fixture('pyvmomi-RetrieveServiceContentResponse.xml'));
      arrangeLogin();
      const p = await vsphereModule.create(config, { clock: new SystemClock(), logger: silentLogger(), baseDir: '.', purpose: 'oneshot' });
      const e = await rejection(p.snapshot());
      if (!isVigilError(e)) throw new Error(`expected a VigilError, got ${String(e)}`);
      errors.push(e);
    };
    let sent = '';
    await attempt(() =>
      nock(BASE)
        .post('/sdk', (b: string) => {
          sent = b;
          return calledWith('Login')(b);
        })
        .reply(500, fixture('pyvmomi-Login-fault-InvalidLogin-http500.xml')),
    );
    expect(sent, 'the password is sent escaped').toContain('<password>S3cr3t&lt;&amp;&gt;&quot;pass</password>');
    await attempt(() => nock(BASE).post('/sdk', calledWith('Login')).delay(1_000).reply(200, ''));
    await attempt(() => nock(BASE).post('/sdk', calledWith('Login')).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' }));
    await attempt(() => nock(BASE).post('/sdk', calledWith('Login')).reply(200, 'not xml'));
    expect(errors.map((e) => e.code)).toEqual([ErrorCodes.PROVIDER_REFUSED, ErrorCodes.PROVIDER_UNAVAILABLE, ErrorCodes.PROVIDER_UNAVAILABLE, ErrorCodes.PROVIDER_UNAVAILABLE]);
    for (const e of errors) {
      const all = `${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}\n${e.cause === undefined ? '' : JSON.stringify(e.cause)}`;
      expect(all).not.toContain('S3cr3t');
      expect(all).not.toContain('vmware_soap_session');
    }
  });
});
