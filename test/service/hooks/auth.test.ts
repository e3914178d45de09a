/**
 * Who may post: Bearer token, HMAC signature with a timestamp and a replay
 * window, the body-only signature interfaces.md first described, and the
 * failures: no credentials, wrong token, bad signature, stale timestamp,
 * replayed request. Also that secrets are compared in constant time and
 * never echoed.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signBody } from '../../../src/service/hooks/index.js';
import { harness, SECRET, TOKEN, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
});

const body = JSON.stringify({ cluster: 'lab', host: 'esx-01', severity: 'critical', message: 'PSU failure' });
const post = (headers: Record<string, string>, payload: string = body, url = '/hooks/generic') => h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload });
const nowSeconds = () => Math.floor(h.clock.now() / 1000);

describe('webhook credentials', () => {
  it('401 without credentials on every route, with WWW-Authenticate', async () => {
    h = harness();
    for (const url of ['/hooks/vsphere', '/hooks/proxmox', '/hooks/generic']) {
      const r = await post({}, body, url);
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(r.json()).toEqual({ error: 'missing credentials' });
    }
    expect(h.hints).toEqual([]);
  });

  it('accepts the right Bearer token and refuses wrong ones', async () => {
    h = harness();
    expect((await post({ authorization: `Bearer ${TOKEN}` })).statusCode).toBe(202);
    for (const wrong of [`Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}x`, 'Bearer short', `Basic ${TOKEN}`, `Bearer`, `Bearer ${'a'.repeat(5000)}`]) {
      const r = await post({ authorization: wrong });
      expect(r.statusCode, wrong.slice(0, 30)).toBe(401);
      expect(r.json()).toEqual({ error: 'invalid credentials' });
    }
    expect(h.hints).toHaveLength(1);
  });

  it('accepts ?token= only when allowQueryToken is set', async () => {
    h = harness();
    expect((await post({}, body, `/hooks/generic?token=${TOKEN}`)).statusCode).toBe(401);
    await h.close();
    h = harness({ auth: { tokens: [TOKEN], allowQueryToken: true } });
    expect((await post({}, body, `/hooks/generic?token=${TOKEN}`)).statusCode).toBe(202);
    expect((await post({}, body, '/hooks/generic?token=nope')).statusCode).toBe(401);
  });

  it('accepts a timestamped HMAC signature over the raw body', async () => {
    h = harness();
    const r = await post(signBody(SECRET, body, nowSeconds()));
    expect(r.statusCode).toBe(202);
    expect(r.json().status).toBe('accepted');
  });

  it('refuses a bad signature: another secret, a changed body, a malformed header', async () => {
    h = harness();
    const ts = nowSeconds();
    const cases: [Record<string, string>, string, string][] = [
      [signBody('another-secret-0123456789', body, ts), body, 'invalid signature'],
      [signBody(SECRET, body, ts), body.replace('esx-01', 'esx-02'), 'invalid signature'],
      [signBody(SECRET, `${body} `, ts), body, 'invalid signature'],
      [{ ...signBody(SECRET, body, ts), 'x-vigil-timestamp': String(ts + 1) }, body, 'invalid signature'],
      [{ 'x-vigil-signature': 'sha1=abcdef', 'x-vigil-timestamp': String(ts) }, body, 'malformed X-Vigil-Signature (expected sha256=<64 hex digits>)'],
      [{ 'x-vigil-signature': `sha256=${'zz'.repeat(32)}`, 'x-vigil-timestamp': String(ts) }, body, 'malformed X-Vigil-Signature (expected sha256=<64 hex digits>)'],
      [{ ...signBody(SECRET, body, ts), 'x-vigil-timestamp': 'yesterday' }, body, 'malformed X-Vigil-Timestamp (expected unix seconds)'],
    ];
    for (const [headers, payload, reason] of cases) {
      const r = await post(headers, payload);
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ error: reason });
    }
    expect(h.hints).toEqual([]);
  });

  it('refuses a timestamp outside the replay window, either way, and accepts one inside it', async () => {
    h = harness({ auth: { hmacSecrets: [SECRET], replayWindowMs: 5 * 60_000 } });
    for (const skew of [-301, 301, -3600]) {
      const r = await post(signBody(SECRET, body, nowSeconds() + skew));
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ error: 'X-Vigil-Timestamp outside the replay window' });
    }
    expect((await post(signBody(SECRET, body, nowSeconds() - 299))).statusCode).toBe(202);
    expect((await post(signBody(SECRET, body, nowSeconds() + 299))).statusCode).toBe(202);
  });

  it('refuses an exact replay of a signed request, and accepts the same body signed afresh', async () => {
    h = harness();
    const signed = signBody(SECRET, body, nowSeconds());
    expect((await post(signed)).statusCode).toBe(202);
    const again = await post(signed);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toEqual({ error: 'replayed request' });
    await h.clock.advance(1_000);
    expect((await post(signBody(SECRET, body, nowSeconds()))).statusCode).toBe(202);
  });

  it('takes new credentials on reload (SIGHUP) and still refuses replays of what the old ones accepted', async () => {
    h = harness();
    const signed = signBody(SECRET, body, nowSeconds());
    expect((await post(signed)).statusCode).toBe(202);
    const NEW_TOKEN = 'rotated-token-0123456789abcdef';
    h.hooks.setAuth({ tokens: [NEW_TOKEN], hmacSecrets: [SECRET], replayWindowMs: 600_000 });
    expect((await post({ authorization: `Bearer ${TOKEN}` })).statusCode).toBe(401);
    expect((await post({ authorization: `Bearer ${NEW_TOKEN}` })).statusCode).toBe(202);
    expect((await post(signed)).json()).toEqual({ error: 'replayed request' });
    h.hooks.setAuth({});
    expect((await post({ authorization: `Bearer ${NEW_TOKEN}` })).statusCode).toBe(401);
    expect(h.warnings()).toContain('no webhook token or HMAC secret is configured: every hook will be refused with 401');
  });

  it('keeps the body-only signature of interfaces.md working, refuses its replays within the window, and can require timestamps', async () => {
    h = harness();
    const signed = signBody(SECRET, body);
    expect(Object.keys(signed)).toEqual(['x-vigil-signature']);
    expect((await post(signed)).statusCode).toBe(202);
    expect((await post(signed)).json()).toEqual({ error: 'replayed request' });
    await h.clock.advance(11 * 60_000);
    expect((await post(signed)).statusCode).toBe(202);
    await h.close();
    h = harness({ auth: { hmacSecrets: [SECRET], requireTimestamp: true } });
    const r = await post(signBody(SECRET, body));
    expect(r.statusCode).toBe(401);
    expect(r.json()).toEqual({ error: 'X-Vigil-Timestamp required' });
  });

  it('accepts any of several tokens or secrets (rotation), and several signatures in one header', async () => {
    h = harness({ auth: { tokens: ['old-token-0123456789', 'new-token-0123456789'], hmacSecrets: ['old-secret-0123456789', 'new-secret-0123456789'] } });
    expect((await post({ authorization: 'Bearer old-token-0123456789' })).statusCode).toBe(202);
    expect((await post({ authorization: 'Bearer new-token-0123456789' })).statusCode).toBe(202);
    const ts = nowSeconds();
    const a = signBody('new-secret-0123456789', body, ts)['x-vigil-signature'];
    const b = signBody('unknown-secret-0123456789', body, ts)['x-vigil-signature'];
    expect((await post({ 'x-vigil-timestamp': String(ts), 'x-vigil-signature': `${b}, ${a}` })).statusCode).toBe(202);
  });

  it('compares secrets in constant time, trying every configured one', async () => {
    h = harness({ auth: { tokens: ['t1-0123456789abcdef', 't2-0123456789abcdef', 't3-0123456789abcdef'], hmacSecrets: ['s1-0123456789abcdef', 's2-0123456789abcdef'] } });
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    expect((await post({ authorization: 'Bearer wrong-and-of-another-length' })).statusCode).toBe(401);
    expect(spy).toHaveBeenCalledTimes(3);
    for (const [a, b] of spy.mock.calls) expect((a as Buffer).length).toBe((b as Buffer).length);
    spy.mockClear();
    expect((await post({ authorization: 'Bearer t1-0123456789abcdef' })).statusCode).toBe(202);
    expect(spy).toHaveBeenCalledTimes(3);
    spy.mockClear();
    const ts = nowSeconds();
    expect((await post({ ...signBody('s2-0123456789abcdef', body, ts), 'x-vigil-timestamp': String(ts) })).statusCode).toBe(202);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('refuses everything when no credential is configured, and says so at start', async () => {
    h = harness({ auth: {} });
    expect(h.warnings()).toContain('no webhook token or HMAC secret is configured: every hook will be refused with 401');
    const r = await post({ authorization: `Bearer ${TOKEN}` });
    expect(r.statusCode).toBe(401);
    expect((await post({})).json()).toEqual({ error: 'webhook credentials are not configured on this Vigil' });
  });

  it('accepts hooks without credentials only when asked to (labs)', async () => {
    h = harness({ auth: { allowUnauthenticated: true } });
    expect(h.warnings()).toContain('webhooks accept requests without credentials');
    expect((await post({})).statusCode).toBe(202);
  });

  it('never echoes a secret in an answer or a log', async () => {
    h = harness();
    await post({ authorization: `Bearer ${TOKEN}x` });
    await post(signBody(SECRET, body, nowSeconds() - 10_000));
    await post({ authorization: `Bearer ${TOKEN}` }, '{"host": "nowhere"}');
    const text = JSON.stringify(h.logs);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(SECRET);
  });

  it('the shell signing recipe in docs/webhooks.md produces a signature Vigil accepts', async () => {
    const openssl = ['/usr/bin/openssl', '/bin/openssl'].find((p) => existsSync(p));
    if (!openssl) throw new Error('openssl is needed for this test (Debian package openssl)');
    h = harness();
    const ts = String(nowSeconds());
    const out = execFileSync('sh', ['-c', `printf '%s.%s' "$TS" "$BODY" | "$OPENSSL" dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1`], {
      env: { ...process.env, TS: ts, BODY: body, SECRET, OPENSSL: openssl },
      encoding: 'utf8',
    }).trim();
    expect(out).toMatch(/^[0-9a-f]{64}$/);
    expect((await post({ 'x-vigil-timestamp': ts, 'x-vigil-signature': `sha256=${out}` })).statusCode).toBe(202);
  });
});
