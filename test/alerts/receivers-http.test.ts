import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alertsConfigSchema, type ReceiverConfig } from '../../src/alerts/config.js';
import { DeliveryError, type Receiver } from '../../src/alerts/receiver.js';
import { buildReceiver } from '../../src/alerts/receivers/build.js';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { silentLogger } from '../../src/log.js';
import { captureLogs, firing, recordingServer, resolved, selfSigned, T0 } from './helpers.js';

function receiver(entry: Record<string, unknown>, clock = new FakeClock(T0 + 5_000), logger = silentLogger(), baseDir = process.cwd()): Receiver {
  const config = alertsConfigSchema.parse({ receivers: [entry] });
  return buildReceiver(config.receivers[0] as ReceiverConfig, clock, logger, baseDir);
}

const send = (r: Receiver, n = firing()) => r.send(n, new AbortController().signal);

describe('generic JSON webhook', () => {
  it('posts the documented shape, with a Bearer token', async () => {
    const peer = await recordingServer(() => ({ status: 204 }));
    const r = receiver({ name: 'ops', type: 'webhook', url: `${peer.url}/vigil/alerts`, bearerToken: 's3cr3t-token' });
    await send(r);
    await send(r, resolved());
    await r.close();
    expect(peer.received).toHaveLength(2);
    const [first, second] = peer.received;
    expect(first?.method).toBe('POST');
    expect(first?.path).toBe('/vigil/alerts');
    expect(first?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first?.headers.authorization).toBe('Bearer s3cr3t-token');
    expect(first?.headers['x-vigil-delivery']).toBe(`host-failed/lab/esx-03@${T0}:firing`);
    expect(first?.json()).toEqual({
      version: 1,
      source: 'vigil',
      status: 'firing',
      reason: 'new',
      at: '2026-01-01T00:00:00.000Z',
      alert: {
        key: 'host-failed/lab/esx-03',
        kind: 'host-failed',
        severity: 'critical',
        peakSeverity: 'critical',
        cluster: 'lab',
        subject: 'esx-03',
        summary: 'Host esx-03 in cluster lab failed (not responding on 3 consecutive polls). Vigil restarts its VMs elsewhere once it is known to be down.',
        details: { host: 'esx-03', reason: 'not responding on 3 consecutive polls' },
        firstSeen: '2026-01-01T00:00:00.000Z',
        lastSeen: '2026-01-01T00:00:00.000Z',
        resolvedAt: null,
        resolution: null,
      },
    });
    expect(second?.json()).toMatchObject({ status: 'resolved', reason: 'resolved', at: '2026-01-01T00:01:00.000Z', alert: { resolvedAt: '2026-01-01T00:01:00.000Z', resolution: 'esx-03 responds again', lastSeen: '2026-01-01T00:01:00.000Z' } });
  });

  it('signs the body with HMAC-SHA256 over "<timestamp>.<body>"', async () => {
    const peer = await recordingServer();
    const clock = new FakeClock(T0 + 5_000);
    const r = receiver({ name: 'signed', type: 'webhook', url: peer.url, hmacSecret: 'hmac-key-123', headers: { 'X-Team': 'infra' } }, clock);
    await send(r);
    await r.close();
    const got = peer.received[0];
    const ts = got?.headers['x-vigil-timestamp'];
    expect(ts).toBe(String((T0 + 5_000) / 1000));
    const expected = `sha256=${createHmac('sha256', 'hmac-key-123').update(`${String(ts)}.${got?.body}`).digest('hex')}`;
    expect(got?.headers['x-vigil-signature']).toBe(expected);
    expect(got?.headers['x-team']).toBe('infra');
    expect(got?.headers.authorization).toBeUndefined();
  });

  it('tells retryable answers from configuration errors, with no URL in the message', async () => {
    const answers = [
      { status: 503, body: 'busy' },
      { status: 429, body: 'slow down', headers: { 'retry-after': '7' } },
      { status: 404, body: 'no such hook' },
    ];
    const peer = await recordingServer((n) => answers[n] ?? { status: 200 });
    const r = receiver({ name: 'x', type: 'webhook', url: `${peer.url}/path-with-key-abc123` });
    const errors: DeliveryError[] = [];
    for (let i = 0; i < 3; i++) await send(r).catch((e: DeliveryError) => errors.push(e));
    await r.close();
    expect(errors.map((e) => [e.message, e.retryable, e.retryAfterMs])).toEqual([
      ['the receiver answered HTTP 503: busy', true, undefined],
      ['the receiver answered HTTP 429: slow down', true, 7_000],
      ['the receiver answered HTTP 404: no such hook', false, undefined],
    ]);
    const down = receiver({ name: 'down', type: 'webhook', url: 'http://127.0.0.1:1/path-with-key-abc123' });
    const e = await send(down).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DeliveryError);
    expect((e as DeliveryError).retryable).toBe(true);
    expect((e as DeliveryError).message).toMatch(/ECONNREFUSED/);
    expect((e as DeliveryError).message).not.toContain('abc123');
  });

  it('verifies TLS: refuses a self-signed certificate, accepts it through caFile, and warns on insecure', async () => {
    const cert = selfSigned('hook');
    const peer = await recordingServer(() => ({ status: 200 }), cert);
    const refused = await send(receiver({ name: 'tls', type: 'webhook', url: peer.url })).catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(DeliveryError);
    expect((refused as DeliveryError).message).toMatch(/self-signed|certificate/i);
    expect((refused as DeliveryError).retryable).toBe(false);
    expect(peer.received).toHaveLength(0);

    const trusted = receiver({ name: 'tls', type: 'webhook', url: peer.url, caFile: cert.certFile });
    await send(trusted);
    await trusted.close();
    expect(peer.received).toHaveLength(1);

    const logs = captureLogs();
    const insecure = receiver({ name: 'tls-off', type: 'webhook', url: peer.url, insecure: true }, undefined, logs.logger);
    await send(insecure);
    await insecure.close();
    expect(peer.received).toHaveLength(2);
    expect(logs.lines().some((l) => l.level === 40 && /verification is OFF/.test(l.msg))).toBe(true);
  });
});

describe('Slack incoming webhook', () => {
  it('posts text and blocks in the documented shape, escaped', async () => {
    const peer = await recordingServer(() => ({ status: 200, body: 'ok' }));
    const r = receiver({ name: 'slack', type: 'slack', url: `${peer.url}/services/T000/B000/XXXX` });
    await send(r, firing({ summary: 'VM a<b> & c stays down: no host. A person must act.', kind: 'unplaced', subject: 'a<b>', key: 'unplaced/lab/a<b>' }));
    await send(r, resolved());
    await r.close();
    expect(peer.received[0]?.path).toBe('/services/T000/B000/XXXX');
    expect(peer.received[0]?.json()).toEqual({
      text: '[CRITICAL] VM a&lt;b&gt; &amp; c stays down: no host. A person must act.',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'CRITICAL: unplaced a<b>', emoji: false } },
        { type: 'section', text: { type: 'mrkdwn', text: 'VM a&lt;b&gt; &amp; c stays down: no host. A person must act.' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Cluster*\nlab' },
            { type: 'mrkdwn', text: '*Subject*\na&lt;b&gt;' },
            { type: 'mrkdwn', text: '*Severity*\ncritical' },
            { type: 'mrkdwn', text: '*Kind*\nunplaced' },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'first seen 2026-01-01T00:00:00.000Z · last seen 2026-01-01T00:00:00.000Z · key `unplaced/lab/a&lt;b&gt;`' }] },
      ],
    });
    const res = peer.received[1]?.json();
    expect(res.text).toBe('[RESOLVED] Host esx-03 in cluster lab failed (not responding on 3 consecutive polls). Vigil restarts its VMs elsewhere once it is known to be down.');
    expect(res.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Resolved: host failed esx-03', emoji: false } });
    expect(res.blocks[1].text.text).toMatch(/\n\*Resolved:\* esx-03 responds again$/);
    expect(res.blocks[2].fields[2]).toEqual({ type: 'mrkdwn', text: '*Severity*\nresolved (was critical)' });
    expect(res.blocks[3].elements[0].text).toBe('first seen 2026-01-01T00:00:00.000Z · resolved 2026-01-01T00:01:00.000Z · key `host-failed/lab/esx-03`');
  });

  it('keeps Slack limits: header at most 150 characters', async () => {
    const peer = await recordingServer();
    const r = receiver({ name: 'slack', type: 'slack', url: peer.url });
    await send(r, firing({ subject: 'x'.repeat(400), summary: 'y'.repeat(5000) }));
    await r.close();
    const body = peer.received[0]?.json();
    expect(body.blocks[0].text.text.length).toBe(150);
    expect(body.blocks[1].text.text.length).toBe(3000);
  });
});

describe('Microsoft Teams (Workflows / incoming webhook)', () => {
  it('posts a message with one Adaptive Card', async () => {
    const peer = await recordingServer(() => ({ status: 202 }));
    const r = receiver({ name: 'teams', type: 'teams', url: `${peer.url}/workflows/abc/triggers/manual/paths/invoke?sig=zzz` });
    await send(r, firing({ severity: 'warning', kind: 'failover', key: 'failover/lab/esx-03', summary: 'Failover of esx-03 (cluster lab): restarting 3 VMs on other hosts.' }));
    await send(r, resolved());
    await r.close();
    expect(peer.received[0]?.path).toBe('/workflows/abc/triggers/manual/paths/invoke?sig=zzz');
    expect(peer.received[0]?.json()).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            msteams: { width: 'Full' },
            body: [
              { type: 'TextBlock', text: '[WARNING] Failover of esx-03 (cluster lab): restarting 3 VMs on other hosts.', weight: 'Bolder', size: 'Medium', color: 'Warning', wrap: true },
              { type: 'TextBlock', text: 'Failover of esx-03 (cluster lab): restarting 3 VMs on other hosts.', wrap: true },
              {
                type: 'FactSet',
                facts: [
                  { title: 'Cluster', value: 'lab' },
                  { title: 'Subject', value: 'esx-03' },
                  { title: 'Severity', value: 'warning' },
                  { title: 'Kind', value: 'failover' },
                  { title: 'First seen', value: '2026-01-01T00:00:00.000Z' },
                  { title: 'Last seen', value: '2026-01-01T00:00:00.000Z' },
                  { title: 'Key', value: 'failover/lab/esx-03' },
                ],
              },
            ],
          },
        },
      ],
    });
    const card = peer.received[1]?.json().attachments[0].content;
    expect(card.body[0]).toMatchObject({ color: 'Good', text: expect.stringMatching(/^\[RESOLVED\] /) });
    expect(card.body[2]).toEqual({ type: 'TextBlock', text: 'Resolved: esx-03 responds again', wrap: true });
    expect(card.body[3].facts[5]).toEqual({ title: 'Resolved', value: '2026-01-01T00:01:00.000Z' });
  });
});
