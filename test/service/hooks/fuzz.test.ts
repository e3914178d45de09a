/**
 * Bad input, thousands of times: random bodies (JSON of any shape, the real
 * samples with parts replaced, raw bytes, huge and deeply nested values),
 * random headers (content types, credentials valid and not, ce-* attributes,
 * signatures and timestamps) and random query strings, on every route.
 * Only the contract's statuses may come back, nothing may throw, and the
 * rest of the service must still answer. Then garbage over a real socket.
 */
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { signBody } from '../../../src/service/hooks/index.js';
import { fixture, harness, SECRET, TOKEN, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const ALLOWED = new Set([202, 400, 401, 413, 429]);
const ROUTES = ['/hooks/vsphere', '/hooks/proxmox', '/hooks/generic'];
const SAMPLES = [
  'veba-cloudevent-VmPoweredOffEvent-v0.json',
  'veba-cloudevent-VmPoweredOffEvent-router.json',
  'veba-cloudevent-AlarmStatusChangedEvent-host-red-router.json',
  'veba-data-HA-ClusterFailoverActionCompletedEvent.json',
  'veba-data-AlarmStatusChangedEvent-2.json',
  'veba-openfaas-cloudevent-VmReconfiguredEvent.json',
].map((f) => JSON.parse(fixture(f)) as Record<string, unknown>);

const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 80 });

/** A real sample (or a Proxmox/generic body) with some keys, at any depth, replaced by random JSON. */
const mutatedSample = fc
  .tuple(
    fc.constantFrom<Record<string, unknown>>(
      ...SAMPLES,
      { title: 'Trying to fence node pve2', message: 'm', severity: 'error', timestamp: 1767225600, fields: { type: 'fencing', hostname: 'pve2' } },
      { cluster: 'lab', host: 'esx-01', severity: 'critical', message: 'x' },
    ),
    fc.array(fc.tuple(fc.constantFrom('id', 'type', 'source', 'specversion', 'subject', 'data', 'Host', 'Key', 'To', 'Entity', 'fields', 'severity', 'timestamp', 'cluster', 'host', 'message', 'Name', 'UserName'), fc.jsonValue({ maxDepth: 3 })), { maxLength: 4 }),
  )
  .map(([sample, edits]) => {
    const copy = structuredClone(sample);
    for (const [key, value] of edits) replaceDeep(copy, key, value);
    return JSON.stringify(copy);
  });

function replaceDeep(o: unknown, key: string, value: unknown): void {
  if (typeof o !== 'object' || o === null) return;
  const rec = o as Record<string, unknown>;
  if (key in rec) rec[key] = value;
  for (const v of Object.values(rec)) replaceDeep(v, key, value);
}

const body = fc.oneof(
  { weight: 4, arbitrary: mutatedSample.map((s) => Buffer.from(s)) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`)) },
  { weight: 1, arbitrary: fc.constantFrom(1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024).map((n) => Buffer.alloc(n, 0x7b)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);

const contentType = fc.option(
  fc.oneof(fc.constantFrom('application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json', 'text/plain', 'application/json; charset=utf-8', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded'), printable),
  { nil: undefined },
);

/** Credentials: valid, almost valid, garbage, or none; signatures over the real body or not. */
type Credential = 'token' | 'bad-token' | 'hmac' | 'hmac-stale' | 'hmac-garbage' | 'junk' | 'none';
const credential = fc.constantFrom<Credential>('token', 'token', 'hmac', 'bad-token', 'hmac-stale', 'hmac-garbage', 'junk', 'none');

const ceHeaders = fc.dictionary(fc.constantFrom('ce-specversion', 'ce-id', 'ce-source', 'ce-type', 'ce-subject', 'ce-time'), fc.oneof(printable, fc.constantFrom('1.0', '0.3', 'com.vmware.vsphere.HostConnectionLostEvent.v0', 'com.vmware.event.router/event')), { maxKeys: 6 });
const extraHeaders = fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), printable, { maxKeys: 3 });
const query = fc.option(fc.tuple(fc.constantFrom('cluster', 'token', 'x', 'cluster[]'), printable).map(([k, v]) => `?${k}=${encodeURIComponent(v)}`), { nil: '' });

type RequestCase = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

const requestArb = fc.record({ route: fc.constantFrom(...ROUTES), body, contentType, credential, ce: ceHeaders, extra: extraHeaders, query, // One sender floods (and meets the rate limit); the others come from many addresses.
  from: fc.oneof(fc.constant('10.9.9.9'), fc.integer({ min: 1, max: 254 }).map((n) => `10.0.0.${n}`), fc.constant('::1')),
});

function headersFor(r: RequestCase, nowSeconds: number): Record<string, string> {
  const headers: Record<string, string> = { ...r.ce, ...r.extra };
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  switch (r.credential) {
    case 'token':
      headers.authorization = `Bearer ${TOKEN}`;
      break;
    case 'bad-token':
      headers.authorization = `Bearer ${TOKEN.slice(1)}`;
      break;
    case 'hmac':
      Object.assign(headers, signBody(SECRET, r.body, nowSeconds));
      break;
    case 'hmac-stale':
      Object.assign(headers, signBody(SECRET, r.body, nowSeconds - 3600));
      break;
    case 'hmac-garbage':
      headers['x-vigil-signature'] = `sha256=${'ab'.repeat(32)}`;
      headers['x-vigil-timestamp'] = String(nowSeconds);
      break;
    case 'junk':
      headers.authorization = 'Negotiate ' + 'x'.repeat(10);
      headers['x-vigil-signature'] = 'sha256=';
      break;
    case 'none':
      break;
  }
  return headers;
}

describe('webhooks under random input', () => {
  it('answer only 202/400/401/413/429 to thousands of random requests, never throw, and leave the service answering', async () => {
    h = harness({ limits: { ratePerSecond: 10, rateBurst: 500 } });
    const seen = new Map<number, number>();
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        requests++;
        const res = await h.app.inject({ method: 'POST', url: `${r.route}${r.query}`, headers: headersFor(r, Math.floor(h.clock.now() / 1000)), payload: r.body, remoteAddress: r.from });
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        expect(ALLOWED.has(res.statusCode), `${res.statusCode} ${res.body.slice(0, 200)}`).toBe(true);
        const answer = res.json();
        if (res.statusCode === 202) expect(['accepted', 'ignored', 'duplicate', 'unresolved']).toContain(answer.status);
        else expect(typeof answer.error).toBe('string');
        // Time moves, so rate buckets refill and replay windows pass during the run.
        await h.clock.advance(7);
      }),
      { numRuns: 3_000 },
    );
    expect(requests).toBeGreaterThanOrEqual(3_000);
    // The run exercised every outcome, not just one refusal.
    for (const status of ALLOWED) expect(seen.get(status) ?? 0, `status ${status} never seen: ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    expect((await h.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const stats = h.hooks.stats();
    expect(stats.hints).toBe(h.hints.length);
    expect(stats.hintErrors).toBe(0);
    expect(h.logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('survive garbage over a real socket and keep serving /healthz', async () => {
    h = harness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (h.app.server.address() as AddressInfo).port;
    const payloads = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((a) => Buffer.from(a)),
        fc
          .tuple(fc.constantFrom(...ROUTES), fc.uint8Array({ maxLength: 256 }), fc.constantFrom('5', '-1', '99999999999', 'abc', '1e3'))
          .map(([route, junk, length]) => Buffer.concat([Buffer.from(`POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`), Buffer.from(junk)])),
        fc.constantFrom(...ROUTES).map((route) => Buffer.from(`POST ${route} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot hex\r\n`)),
      ),
      200,
    );
    for (const p of payloads) await sendRaw(port, p);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const ok = await fetch(`http://127.0.0.1:${port}/hooks/generic`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ cluster: 'lab', host: 'esx-01' }) });
    expect(ok.status).toBe(202);
  });
});

/** Writes bytes, waits briefly for whatever comes back (or the close), then drops the connection. */
function sendRaw(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, 200);
    s.on('error', done);
    s.on('close', done);
    s.on('data', done);
    s.write(bytes);
  });
}
