/** /hooks/generic: the interfaces.md body, unknown clusters and hosts, and what it refuses. */
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, harness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => h?.close());

const post = (payload: unknown, url = '/hooks/generic') =>
  h.app.inject({ method: 'POST', url, headers: { ...bearer, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

describe('/hooks/generic', () => {
  it('hints the named host of the named cluster', async () => {
    h = harness();
    const r = await post({ cluster: 'lab', host: 'esx-02', severity: 'CRITICAL', message: 'BMC: PSU 1 failed\nPSU 2 degraded' });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'lab', host: 'esx-02' }] });
    expect(h.hints).toEqual([{ cluster: 'lab', hint: { host: 'esx-02', at: h.clock.now(), source: 'generic', event: 'generic', kind: 'report', severity: 'critical', message: 'BMC: PSU 1 failed PSU 2 degraded' } }]);
  });

  it('finds the cluster from the host alone, or takes the whole cluster when only that is named', async () => {
    h = harness();
    expect((await post({ host: 'esx-04', message: 'x' })).json().hints).toEqual([{ cluster: 'lab', host: 'esx-04' }]);
    expect((await post({ cluster: 'pve', severity: 'warning' })).json().hints).toEqual([{ cluster: 'pve' }]);
    expect((await post({ host: 'esx-03' }, '/hooks/generic?cluster=lab')).json().hints).toEqual([{ cluster: 'lab', host: 'esx-03' }]);
    expect(h.hints.map((x) => x.hint.severity)).toEqual(['unknown', 'warning', 'unknown']);
  });

  it('an unknown cluster: 202 and a warning, no hint', async () => {
    h = harness();
    const r = await post({ cluster: 'prod-eu', host: 'esx-01' });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'unresolved', warnings: ['no Vigil cluster matches cluster "prod-eu" and host "esx-01"'] });
    expect(h.hints).toEqual([]);
    expect(h.warnings()).toEqual(['webhook: no Vigil cluster matches cluster "prod-eu" and host "esx-01"']);
  });

  it('an unknown host in a known cluster: 202 and a warning, and that cluster looks at itself', async () => {
    h = harness();
    const r = await post({ cluster: 'lab', host: 'esx-99' });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'lab' }], warnings: ['cluster "lab" has no host "esx-99"; it will look at the whole cluster'] });
    expect(h.hints[0]?.hint.host).toBeUndefined();
    expect(h.warnings()).toHaveLength(1);
  });

  it('an unknown host with no cluster: 202 and a warning', async () => {
    h = harness();
    const r = await post({ host: 'mystery' });
    expect(r.json()).toEqual({ status: 'unresolved', warnings: ['no Vigil cluster matches host "mystery"'] });
  });

  const bad: [string, unknown, RegExp][] = [
    ['not JSON', 'cluster=lab', /^body is not JSON/],
    ['an array', '[{"cluster": "lab"}]', /JSON object/],
    ['neither cluster nor host', { severity: 'critical', message: 'x' }, /name a cluster or a host/],
    ['a cluster that is not a string', { cluster: 7 }, /^cluster: /],
    ['an empty host', { host: '   ' }, /^host: /],
    ['an empty body', '', /^body is not JSON \(empty body\)/],
    ['deeply nested JSON', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, /JSON object|nested too deeply/],
  ];
  for (const [what, payload, reason] of bad) {
    it(`400 for ${what}`, async () => {
      h = harness();
      const r = await post(payload);
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toMatch(reason);
    });
  }

  it('keeps other keys and long messages from hurting: extra keys ignored, message cut to one line', async () => {
    h = harness();
    const r = await post({ cluster: 'lab', host: 'esx-01', message: 'x'.repeat(10_000), labels: { team: 'infra' }, __proto__: { polluted: true } });
    expect(r.statusCode).toBe(202);
    expect(h.hints[0]?.hint.message).toHaveLength(300);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
