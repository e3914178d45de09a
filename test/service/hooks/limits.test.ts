/**
 * Limits: 1 MiB bodies (413, also when streamed without a length over a
 * real socket), a token bucket per source address (429), duplicates
 * collapsed, bursts of hints about one host coalesced, and the counters and
 * metric callbacks that report it all.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { HookSource } from '../../../src/service/hooks/index.js';
import { bearer, fixtureJson, harness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const MiB = 1024 * 1024;
const generic = (payload: string | Buffer | Readable, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
  h.app.inject({ method: 'POST', url: '/hooks/generic', headers: { ...bearer, 'content-type': 'application/json', ...headers }, payload, remoteAddress });

/** A valid generic body padded with spaces to exactly `size` bytes. */
const padded = (size: number) => {
  const json = JSON.stringify({ cluster: 'lab', host: 'esx-01', message: 'padded' });
  return Buffer.concat([Buffer.from(json), Buffer.alloc(size - json.length, 0x20)]);
};

describe('body size', () => {
  it('accepts exactly 1 MiB and refuses one byte more with 413', async () => {
    h = harness();
    expect((await generic(padded(MiB))).statusCode).toBe(202);
    const r = await generic(padded(MiB + 1));
    expect(r.statusCode).toBe(413);
    expect(r.json()).toEqual({ error: 'body over 1 MiB' });
    expect(h.hints).toHaveLength(1);
  });

  it('refuses a body streamed without Content-Length once it passes 1 MiB', async () => {
    h = harness();
    const chunks = function* () {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(300 * 1024, 0x20);
    };
    const r = await generic(Readable.from(chunks()));
    expect(r.statusCode).toBe(413);
  });

  it('over a real socket: answers 413 to a chunked upload without reading it all, and keeps serving', async () => {
    h = harness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (h.app.server.address() as AddressInfo).port;
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/hooks/generic', headers: { ...bearer, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (e) => (sent > MiB ? undefined : reject(e)));
      // Offer up to 64 MiB; the server must answer long before that.
      const pump = () => {
        while (sent < 64 * MiB && !req.destroyed) {
          sent += 64 * 1024;
          if (!req.write(Buffer.alloc(64 * 1024, 0x20))) return void req.once('drain', pump);
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(64 * MiB);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a source has used its burst, refills over time, and leaves other sources and routes alone', async () => {
    h = harness({ limits: { ratePerSecond: 10, rateBurst: 20 } });
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) statuses.push((await generic(JSON.stringify({ cluster: 'lab', message: `flood ${i}` }), {}, '10.0.0.1')).statusCode);
    expect(statuses.filter((s) => s === 202)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    const limited = await generic('{}', {}, '10.0.0.1');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json()).toEqual({ error: 'too many requests' });
    // Another sender is not punished for the first one's flood; neither is the rest of the service.
    expect((await generic(JSON.stringify({ cluster: 'lab' }), {}, '10.0.0.2')).statusCode).toBe(202);
    expect((await h.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    // A second later there are ten more tokens.
    await h.clock.advance(1_000);
    const after: number[] = [];
    for (let i = 0; i < 12; i++) after.push((await generic(JSON.stringify({ cluster: 'lab', message: `later ${i}` }), {}, '10.0.0.1')).statusCode);
    expect(after.filter((s) => s === 202)).toHaveLength(10);
    expect(h.hooks.stats().rateLimited).toBe(31 + 2);
  });

  it('refuses a flood before reading bodies or checking credentials', async () => {
    h = harness({ limits: { ratePerSecond: 1, rateBurst: 1 } });
    expect((await generic('x', { authorization: 'Bearer wrong' })).statusCode).toBe(401);
    expect((await generic(padded(MiB + 10), { authorization: 'Bearer wrong' })).statusCode).toBe(429);
  });
});

describe('duplicates and bursts', () => {
  const ce = (id: string, key: number, host = 'esx-02') => ({
    specversion: '1.0',
    id,
    source: 'https://vc01/sdk',
    type: 'com.vmware.vsphere.HostConnectionLostEvent.v0',
    data: { ...fixtureJson('veba-data-VmPoweredOffEvent.json'), Key: key, Host: { Name: host }, Vm: null },
  });
  const vsphere = (event: unknown) => h.app.inject({ method: 'POST', url: '/hooks/vsphere', headers: { ...bearer, 'content-type': 'application/cloudevents+json' }, payload: JSON.stringify(event) });

  it('collapses the same CloudEvent id, and the same vCenter Key redelivered under a new id: 202, counted, one hint', async () => {
    h = harness();
    expect((await vsphere(ce('a', 1))).json().status).toBe('accepted');
    await h.clock.advance(5_000);
    expect((await vsphere(ce('a', 1))).json()).toEqual({ status: 'duplicate' });
    expect((await vsphere(ce('b', 1))).json()).toEqual({ status: 'duplicate' });
    expect((await vsphere(ce('a', 2))).json()).toEqual({ status: 'duplicate' });
    expect(h.hints).toHaveLength(1);
    expect(h.hooks.stats().duplicates).toBe(3);
    // After the duplicate window the same event is news again.
    await h.clock.advance(10 * 60_000);
    expect((await vsphere(ce('a', 1))).json().status).toBe('accepted');
    expect(h.hints).toHaveLength(2);
  });

  it('collapses a generic hook resent with the same id', async () => {
    h = harness();
    const b = JSON.stringify({ id: 'alert-7', host: 'esx-03', severity: 'critical' });
    expect((await generic(b)).json().status).toBe('accepted');
    await h.clock.advance(2_000);
    expect((await generic(b)).json()).toEqual({ status: 'duplicate' });
  });

  it('makes one hint per host and kind per interval, however many distinct alarms arrive', async () => {
    h = harness({ limits: { hintIntervalMs: 1_000 } });
    for (let i = 0; i < 100; i++) await vsphere(ce(`id-${i}`, 1000 + i, i % 2 ? 'esx-01' : 'esx-02'));
    expect(h.hints.map((x) => x.hint.host)).toEqual(['esx-02', 'esx-01']);
    expect(h.hooks.stats().coalesced).toBe(98);
    await h.clock.advance(1_000);
    const r = await vsphere(ce('id-late', 5000, 'esx-01'));
    expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'lab', host: 'esx-01' }] });
    expect(h.hints).toHaveLength(3);
  });
});

describe('counters and metric callbacks', () => {
  it('reports requests by source and status, ignored types, duplicates, rate-limited, hints; a throwing callback changes nothing', async () => {
    const seen: string[] = [];
    h = harness({
      limits: { ratePerSecond: 1, rateBurst: 4 },
      metrics: {
        request: (s: HookSource, status: number) => seen.push(`request ${s} ${status}`),
        ignored: (s, t) => seen.push(`ignored ${s} ${t}`),
        duplicate: (s) => seen.push(`duplicate ${s}`),
        rateLimited: (s) => seen.push(`limited ${s}`),
        hint: (s, c) => {
          seen.push(`hint ${s} ${c}`);
          throw new Error('metrics are broken');
        },
        unresolved: (s) => seen.push(`unresolved ${s}`),
      },
    });
    await generic(JSON.stringify({ id: 'x', cluster: 'lab' }));
    await generic(JSON.stringify({ id: 'x', cluster: 'lab' }));
    await h.app.inject({ method: 'POST', url: '/hooks/proxmox', headers: bearer, payload: JSON.stringify({ fields: { type: 'vzdump', hostname: 'pve1' }, severity: 'error' }) });
    await generic(JSON.stringify({ cluster: 'nowhere' }));
    await generic('{}');
    expect(seen).toEqual([
      'hint generic lab',
      'request generic 202',
      'duplicate generic',
      'request generic 202',
      'ignored proxmox vzdump',
      'request proxmox 202',
      'unresolved generic',
      'request generic 202',
      'limited generic',
      'request generic 429',
    ]);
    const stats = h.hooks.stats();
    expect(stats.requests).toEqual({ vsphere: {}, proxmox: { 202: 1 }, generic: { 202: 3, 429: 1 } });
    expect(stats).toMatchObject({ hints: 1, duplicates: 1, rateLimited: 1, unresolved: 1, ignored: { vzdump: 1 }, hintErrors: 0 });
  });

  it('keeps answering 202 when handing the hint over throws, and counts it', async () => {
    h = harness({
      onHint: () => {
        throw new Error('controller is busy');
      },
    });
    const r = await generic(JSON.stringify({ cluster: 'lab', host: 'esx-01' }));
    expect(r.statusCode).toBe(202);
    expect(h.hooks.stats().hintErrors).toBe(1);
    expect(h.logs.some((l) => l.level === 50 && l.msg === 'webhook: handing the hint to the controller failed')).toBe(true);
  });

  it('caps the distinct event types it counts, so a sender cannot grow memory or metric labels', async () => {
    h = harness({ limits: { ratePerSecond: 10_000, rateBurst: 10_000 } });
    for (let i = 0; i < 260; i++) {
      await h.app.inject({ method: 'POST', url: '/hooks/vsphere', headers: { ...bearer, 'content-type': 'application/cloudevents+json' }, payload: JSON.stringify({ specversion: '1.0', id: `e${i}`, source: 's', type: `com.vmware.vsphere.Made${i}Event.v0`, data: {} }) });
    }
    await h.app.inject({ method: 'POST', url: '/hooks/vsphere', headers: { ...bearer, 'content-type': 'application/cloudevents+json' }, payload: JSON.stringify({ specversion: '1.0', id: 'weird', source: 's', type: 'com.vmware.vsphere.{{$}} \n.v0', data: {} }) });
    const ignored = h.hooks.stats().ignored;
    expect(Object.keys(ignored)).toHaveLength(201);
    expect(ignored.other).toBe(61);
  });
});
