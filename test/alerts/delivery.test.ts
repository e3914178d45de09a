/**
 * Delivery through startAlerts: retries with backoff on the fake clock,
 * receivers that stay down or hang, bounded queues, shutdown, counters, and
 * that no secret reaches a log line or an error.
 */
import { describe, expect, it } from 'vitest';
import { alertsConfigSchema } from '../../src/alerts/config.js';
import type { CounterLike } from '../../src/alerts/outbox.js';
import { startAlerts, type AlertsHandle } from '../../src/alerts/start.js';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { DecisionLog } from '../../src/decisions.js';
import type { StatusReport } from '../../src/service/status.js';
import { captureLogs, recordingServer, T0, waitFor, type LogCapture } from './helpers.js';

const EMPTY: StatusReport = { generatedAt: '', source: 'service', clusters: [] };

class Counter implements CounterLike {
  readonly calls: { receiver: string; reason?: string }[] = [];
  inc(labels: { receiver: string; reason?: string }): void {
    this.calls.push(labels);
  }
  count(receiver: string, reason?: string): number {
    return this.calls.filter((c) => c.receiver === receiver && (reason === undefined || c.reason === reason)).length;
  }
}

function setup(receivers: unknown[], extra: Record<string, unknown> = {}): { clock: FakeClock; decisions: DecisionLog; alerts: AlertsHandle; logs: LogCapture; counters: { sent: Counter; failed: Counter; dropped: Counter } } {
  const clock = new FakeClock(T0);
  const decisions = new DecisionLog();
  const logs = captureLogs();
  const counters = { sent: new Counter(), failed: new Counter(), dropped: new Counter() };
  const alerts = startAlerts({ decisions, status: () => EMPTY, clock, logger: logs.logger, counters, config: alertsConfigSchema.parse({ evaluateEvery: '1h', ...extra, receivers }) });
  return { clock, decisions, alerts, logs, counters };
}

const freeze = (decisions: DecisionLog, clock: FakeClock, cluster: string) => decisions.record({ at: clock.now(), cluster, kind: 'frozen', subject: cluster, message: `${cluster}: 3 of 4 hosts lost at once` });
const stat = (a: AlertsHandle, name: string) => a.stats().find((s) => s.name === name);

describe('delivery', () => {
  it('retries with exponential backoff on the clock, then succeeds', async () => {
    const peer = await recordingServer((n) => (n < 2 ? { status: 503, body: 'maintenance' } : { status: 200 }));
    const { clock, decisions, alerts, counters, logs } = setup([{ name: 'hook', type: 'webhook', url: peer.url, retry: { attempts: 5, minDelay: '2s', maxDelay: '1m' } }]);
    freeze(decisions, clock, 'lab');
    const times: number[] = [];
    for (let attempt = 1; attempt <= 2; attempt++) {
      await waitFor(() => stat(alerts, 'hook')?.retryAt !== undefined, `retry ${attempt} to be scheduled`);
      times.push((stat(alerts, 'hook')?.retryAt as number) - clock.now());
      expect(peer.received).toHaveLength(attempt);
      await clock.advanceTo(stat(alerts, 'hook')?.retryAt as number);
    }
    await waitFor(() => stat(alerts, 'hook')?.sent === 1, 'the delivery');
    expect(times).toEqual([2_000, 4_000]);
    expect(peer.received).toHaveLength(3);
    // Every attempt carries the same body and delivery id, so the far end can drop duplicates.
    expect(new Set(peer.received.map((r) => r.body)).size).toBe(1);
    expect(new Set(peer.received.map((r) => r.headers['x-vigil-delivery'])).size).toBe(1);
    expect(counters.sent.count('hook')).toBe(1);
    expect(counters.failed.calls).toEqual([]);
    expect(logs.lines().filter((l) => /trying again/.test(l.msg))).toHaveLength(2);
    await alerts.stop();
  });

  it('honours Retry-After, capped at maxDelay', async () => {
    const peer = await recordingServer((n) => (n === 0 ? { status: 429, body: 'rate_limited', headers: { 'retry-after': '30' } } : { status: 200, body: 'ok' }));
    const { clock, decisions, alerts } = setup([{ name: 'slack', type: 'slack', url: peer.url, retry: { attempts: 3, minDelay: '1s', maxDelay: '20s' } }]);
    freeze(decisions, clock, 'lab');
    await waitFor(() => stat(alerts, 'slack')?.retryAt !== undefined, 'the retry');
    expect((stat(alerts, 'slack')?.retryAt as number) - clock.now()).toBe(20_000);
    await clock.advance(20_000);
    await waitFor(() => stat(alerts, 'slack')?.sent === 1, 'the delivery');
    await alerts.stop();
  });

  it('a receiver that stays down: undeliverable after its attempts, logged with the alert and counted; the others still get it', async () => {
    const down = await recordingServer(() => ({ status: 500, body: 'internal error' }));
    const up = await recordingServer(() => ({ status: 200 }));
    const { clock, decisions, alerts, counters, logs } = setup([
      { name: 'down', type: 'webhook', url: down.url, retry: { attempts: 3, minDelay: '1s', maxDelay: '1m' } },
      { name: 'up', type: 'teams', url: up.url },
    ]);
    freeze(decisions, clock, 'prod');
    await waitFor(() => stat(alerts, 'up')?.sent === 1, 'the healthy receiver');
    for (let i = 0; i < 2; i++) {
      await waitFor(() => stat(alerts, 'down')?.retryAt !== undefined, 'a retry');
      await clock.advanceTo(stat(alerts, 'down')?.retryAt as number);
    }
    await waitFor(() => stat(alerts, 'down')?.failed === 1, 'the give-up');
    expect(down.received).toHaveLength(3);
    expect(stat(alerts, 'down')).toMatchObject({ sent: 0, failed: 1, dropped: 0, lastError: 'the receiver answered HTTP 500: internal error' });
    expect(counters.failed.calls).toEqual([{ receiver: 'down' }]);
    expect(counters.sent.calls).toEqual([{ receiver: 'up' }]);
    const lost = logs.lines().find((l) => /UNDELIVERED/.test(l.msg));
    expect(lost).toMatchObject({ level: 50, receiver: 'down', attempts: 3, alert: { key: 'frozen/prod/prod', kind: 'frozen', severity: 'critical', status: 'firing' } });
    expect(lost.msg).toContain('Automation is frozen on cluster prod');
    await alerts.stop();
  });

  it('a receiver that hangs: each attempt is bounded by the timeout, its queue is bounded (oldest dropped, logged, counted), and nothing else waits', async () => {
    const hang = await recordingServer(() => 'hang');
    const up = await recordingServer(() => ({ status: 200 }));
    const { clock, decisions, alerts, counters, logs } = setup([
      { name: 'hang', type: 'webhook', url: hang.url, timeout: '2s', queueSize: 2, retry: { attempts: 2, minDelay: '1s', maxDelay: '1s' } },
      { name: 'up', type: 'webhook', url: up.url },
    ]);
    // Five clusters freeze: recording each decision returns at once although one receiver never answers.
    for (const c of ['c1', 'c2', 'c3', 'c4', 'c5']) freeze(decisions, clock, c);
    await waitFor(() => stat(alerts, 'up')?.sent === 5, 'the healthy receiver to get all five');
    expect(up.received.map((r) => r.json().alert.cluster)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    // c1 is in flight; the queue holds two; c2 and c3 were the oldest waiting and were dropped.
    expect(stat(alerts, 'hang')).toMatchObject({ queued: 2, dropped: 2, sent: 0 });
    expect(counters.dropped.calls).toEqual([
      { receiver: 'hang', reason: 'overflow' },
      { receiver: 'hang', reason: 'overflow' },
    ]);
    const dropped = logs.lines().filter((l) => /DROPPED/.test(l.msg));
    expect(dropped.map((l) => l.alert.cluster)).toEqual(['c2', 'c3']);
    // Simulated time: each attempt gives up after 2s, one retry after 1s; three notifications end undelivered.
    for (let i = 0; i < 40 && (stat(alerts, 'hang')?.failed ?? 0) < 3; i++) {
      await clock.advance(500);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(stat(alerts, 'hang')).toMatchObject({ queued: 0, failed: 3, dropped: 2, lastError: 'no answer within 2s' });
    expect(hang.received.map((r) => r.json().alert.cluster)).toEqual(['c1', 'c1', 'c4', 'c4', 'c5', 'c5']);
    await alerts.stop();
  });

  it('on stop, what cannot go out within drainTimeout is dropped, logged and counted', async () => {
    const hang = await recordingServer(() => 'hang');
    const { clock, decisions, alerts, counters, logs } = setup([{ name: 'hang', type: 'webhook', url: hang.url, timeout: '1m' }], { drainTimeout: '3s' });
    freeze(decisions, clock, 'a');
    freeze(decisions, clock, 'b');
    await waitFor(() => hang.received.length === 1, 'the first attempt');
    const stopping = alerts.stop();
    await clock.advance(3_000);
    await stopping;
    expect(stat(alerts, 'hang')).toMatchObject({ sent: 0, failed: 0, dropped: 2, queued: 0 });
    expect(counters.dropped.calls).toEqual([
      { receiver: 'hang', reason: 'shutdown' },
      { receiver: 'hang', reason: 'shutdown' },
    ]);
    expect(logs.lines().filter((l) => /DROPPED/.test(l.msg)).map((l) => l.alert.cluster)).toEqual(['a', 'b']);
    // After stop, decisions reach nothing.
    freeze(decisions, clock, 'c');
    expect(alerts.active().some((a) => a.cluster === 'c')).toBe(false);
  });

  it('sends a resolved notice to the receivers that got the firing one, filtered by severity and kind', async () => {
    const all = await recordingServer();
    const critical = await recordingServer();
    const capacity = await recordingServer();
    const noResolved = await recordingServer();
    const { clock, decisions, alerts } = setup([
      { name: 'all', type: 'webhook', url: all.url },
      { name: 'critical', type: 'webhook', url: critical.url, severities: ['critical'] },
      { name: 'capacity', type: 'webhook', url: capacity.url, kinds: ['capacity'], clusters: ['lab'] },
      { name: 'no-resolved', type: 'webhook', url: noResolved.url, sendResolved: false },
    ]);
    freeze(decisions, clock, 'lab');
    decisions.record({ at: clock.now(), cluster: 'lab', kind: 'alert', subject: 'lab', message: 'failover capacity below policy: tolerates 0 host failures (policy wants 1, exact)' });
    decisions.record({ at: clock.now(), cluster: 'other', kind: 'alert', subject: 'other', message: 'failover capacity below policy: tolerates 0 host failures (policy wants 1, exact)' });
    decisions.record({ at: clock.now() + 1, cluster: 'lab', kind: 'unfrozen', subject: 'lab', message: 'unfrozen by admin' });
    decisions.record({ at: clock.now() + 2, cluster: 'lab', kind: 'info', subject: 'lab', message: 'failover capacity meets policy again: tolerates 1 host failure (policy wants 1, exact)' });
    await alerts.idle();
    const seen = (s: typeof all) => s.received.map((r) => `${r.json().status} ${r.json().alert.key}`);
    expect(seen(all)).toEqual(['firing frozen/lab/lab', 'firing capacity/lab/lab', 'firing capacity/other/other', 'resolved frozen/lab/lab', 'resolved capacity/lab/lab']);
    expect(seen(critical)).toEqual(['firing frozen/lab/lab', 'resolved frozen/lab/lab']);
    expect(seen(capacity)).toEqual(['firing capacity/lab/lab', 'resolved capacity/lab/lab']);
    expect(seen(noResolved)).toEqual(['firing frozen/lab/lab', 'firing capacity/lab/lab', 'firing capacity/other/other']);
    await alerts.stop();
  });

  it('a counter that throws (say, registered without the reason label) does not stop delivery', async () => {
    const peer = await recordingServer();
    const clock = new FakeClock(T0);
    const decisions = new DecisionLog();
    const logs = captureLogs();
    const broken: CounterLike = {
      inc: () => {
        throw new Error('Added label "reason" is not included in initial labelset');
      },
    };
    const alerts = startAlerts({ decisions, status: () => EMPTY, clock, logger: logs.logger, counters: { sent: broken, dropped: broken }, config: alertsConfigSchema.parse({ receivers: [{ name: 'hook', type: 'webhook', url: peer.url, queueSize: 1 }] }) });
    freeze(decisions, clock, 'a');
    freeze(decisions, clock, 'b');
    freeze(decisions, clock, 'c'); // overflows the queue of one: b is dropped
    await alerts.idle();
    expect(peer.received.map((r) => r.json().alert.cluster)).toEqual(['a', 'c']);
    expect(stat(alerts, 'hook')).toMatchObject({ sent: 2, dropped: 1 });
    expect(logs.lines().filter((l) => /cannot count/.test(l.msg)).map((l) => l.counter)).toEqual(['dropped', 'sent', 'sent']);
    await alerts.stop();
  });

  it('never logs or reports a token, HMAC key, webhook URL secret or password', async () => {
    const refuse = await recordingServer(() => ({ status: 403, body: 'invalid_token' }));
    const secrets = { token: 'tok-7f3a9c-SECRET', hmac: 'hmac-91be-SECRET', slack: 'B0SLACK/SLACKPATHSECRET', teams: 'TEAMSSIGSECRET' };
    const { clock, decisions, alerts, logs } = setup([
      { name: 'bearer', type: 'webhook', url: refuse.url, bearerToken: secrets.token, headers: { 'X-Api-Key': secrets.token } },
      { name: 'hmac', type: 'webhook', url: refuse.url, hmacSecret: secrets.hmac },
      { name: 'slack', type: 'slack', url: `${refuse.url}/services/T0/${secrets.slack}` },
      { name: 'teams', type: 'teams', url: `${refuse.url}/workflows/x/invoke?sig=${secrets.teams}` },
      { name: 'unreachable', type: 'slack', url: `http://127.0.0.1:1/services/T0/${secrets.slack}` },
    ]);
    freeze(decisions, clock, 'lab');
    await waitFor(() => alerts.stats().every((s) => s.failed === 1 || (s.name === 'unreachable' && s.retryAt !== undefined)), 'every receiver to fail');
    for (let i = 0; i < 10 && stat(alerts, 'unreachable')?.failed !== 1; i++) {
      await clock.advance(60_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await alerts.stop();
    expect(alerts.stats().map((s) => s.failed)).toEqual([1, 1, 1, 1, 1]);
    const text = `${logs.text()}\n${JSON.stringify(alerts.stats())}\n${JSON.stringify(alerts.active())}`;
    expect(text).toContain('invalid_token');
    for (const s of Object.values(secrets)) expect(text).not.toContain(s);
    expect(text).not.toContain('SLACKPATHSECRET');
  });
});
