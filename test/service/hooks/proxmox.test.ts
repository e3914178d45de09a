/**
 * /hooks/proxmox with bodies rendered the way Proxmox VE's notification
 * engine renders the webhook target that docs/webhooks.md tells people to
 * configure (see proxmox-render.ts for the rules restated).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinPath } from '../../../src/paths.js';
import { PROXMOX_AUTH_HEADER_TEMPLATE, PROXMOX_BODY_TEMPLATE, resolverFromInventory } from '../../../src/service/hooks/index.js';
import { fixtureJson, harness, TOKEN, type Harness } from './harness.js';
import { b64, renderPveWebhook, type PveNotification, type PveWebhookTarget } from './proxmox-render.js';

let h: Harness;
afterEach(async () => h?.close());

/** The target as docs/webhooks.md configures it (values base64, as PVE stores them). */
const target = (url = 'http://vigil.example:8080/hooks/proxmox'): PveWebhookTarget => ({
  url,
  method: 'post',
  header: [
    { name: 'Content-Type', value: b64('application/json') },
    { name: 'Authorization', value: b64(PROXMOX_AUTH_HEADER_TEMPLATE) },
  ],
  secret: [{ name: 'token', value: b64(TOKEN) }],
  body: b64(PROXMOX_BODY_TEMPLATE),
});

// A fencing notification as pve-ha-manager sends it: fields {type: fencing, hostname: <node being fenced>},
// severity error; title and message are its rendered subject and body. The text here is written for the test,
// with the characters that break naive JSON templates: quotes, backslashes, tabs, newlines, a control character.
const fencing = (node: string, phase: 'trying' | 'done', timestamp = 1767225600): PveNotification => ({
  title: phase === 'trying' ? `\nTrying to fence node '${node}'\n` : `Successfully fenced node '${node}'\n`,
  message: [
    `The node '${node}' in cluster "prod \\ pve" failed`,
    'and needs manual intervention.',
    '',
    phase === 'trying' ? `The PVE HA manager will now fence '${node}'.` : `The PVE HA manager successfully fenced '${node}'.`,
    `Status:\tTry to fence node '${node}'\u0001`,
    'Cluster Node Status:',
    `  - pve1: online [master]`,
    `  - ${node}: fence`,
    'HA Resources: vm:100 [pve2]: fence → recovery ü',
  ].join('\n'),
  severity: 'error',
  timestamp,
  fields: { type: 'fencing', hostname: node },
});

async function send(n: PveNotification, t = target()) {
  const r = renderPveWebhook(t, n);
  const url = new URL(r.url);
  return h.app.inject({ method: r.method, url: `${url.pathname}${url.search}`, headers: r.headers, payload: r.body });
}

describe('the Proxmox rendering rules used by these tests', () => {
  it('render like proxmox-notify: no HTML escaping, json via serde rules, escape without quotes, url-encode', () => {
    const t: PveWebhookTarget = { ...target(), body: b64('{{ fields.x }}|{{ escape fields.x }}|{{ json fields }}|{{ json severity }}|{{ url-encode fields.y }}|{{ json timestamp }}') };
    const r = renderPveWebhook(t, { title: '', message: '', severity: 'info', timestamp: 42, fields: { x: 'a "b" <c>\\\n', y: 'a b/ü&' } });
    expect(r.body).toBe('a "b" <c>\\\n|a \\"b\\" <c>\\\\\\n|{"x":"a \\"b\\" <c>\\\\\\n","y":"a b/ü&"}|"info"|a%20b%2F%C3%BC%26|42');
    expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('the documented template parses: a triple closing brace would not', () => {
    expect(PROXMOX_BODY_TEMPLATE.endsWith('}} }')).toBe(true);
    expect(() => renderPveWebhook({ ...target(), body: b64('{"f": {{ json fields }}}') }, fencing('pve2', 'trying'))).toThrow(/Parse error/);
  });
});

describe('/hooks/proxmox', () => {
  it('turns a fencing notification into a hint about the node being fenced', async () => {
    h = harness();
    const r = await send(fencing('pve2', 'trying'));
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'pve', host: 'pve2' }] });
    expect(h.hints).toEqual([
      { cluster: 'pve', hint: { host: 'pve2', at: h.clock.now(), source: 'proxmox', event: 'fencing', kind: 'fencing', severity: 'error', message: "Trying to fence node 'pve2'", eventTime: 1767225600_000 } },
    ]);
  });

  it('counts "trying to fence" and "successfully fenced" as two, and the same notification twice as one', async () => {
    h = harness();
    expect((await send(fencing('pve2', 'trying'))).json().status).toBe('accepted');
    expect((await send(fencing('pve2', 'trying'))).json()).toEqual({ status: 'duplicate' });
    await h.clock.advance(10_000);
    expect((await send(fencing('pve2', 'done', 1767225610))).json().status).toBe('accepted');
    expect(h.hints.map((x) => x.hint.message)).toEqual(["Trying to fence node 'pve2'", "Successfully fenced node 'pve2'"]);
    expect(h.hooks.stats().duplicates).toBe(1);
  });

  it('maps failed replication and unknown error types that name a node; ignores the rest, counted by type', async () => {
    h = harness();
    const n = (type: string, severity: PveNotification['severity'], hostname?: string, extra: Record<string, string> = {}): PveNotification => ({
      title: `${type} on ${hostname ?? '?'}`,
      message: 'details',
      severity,
      timestamp: 1767225600 + type.length,
      fields: { type, ...(hostname ? { hostname } : {}), ...extra },
    });
    const expectations: [PveNotification, string][] = [
      [n('replication', 'error', 'pve1', { 'job-id': '100-0' }), 'accepted'],
      [n('ha-node-lost', 'error', 'pve3'), 'accepted'],
      [n('package-updates', 'info', 'pve1'), 'ignored'],
      [n('vzdump', 'error', 'pve1', { 'job-id': 'backup-1' }), 'ignored'],
      [n('system-mail', 'unknown', 'pve1'), 'ignored'],
      [n('some-new-thing', 'notice', 'pve1'), 'ignored'],
      [n('error-without-node', 'error'), 'ignored'],
    ];
    for (const [notification, status] of expectations) {
      const r = await send(notification);
      expect(r.statusCode).toBe(202);
      expect(r.json().status, notification.fields.type).toBe(status);
    }
    expect(h.hints.map((x) => [x.cluster, x.hint.host, x.hint.kind])).toEqual([
      ['pve', 'pve1', 'replication'],
      ['pve', 'pve3', 'report'],
    ]);
    expect(h.hooks.stats().ignored).toEqual({ 'package-updates': 1, vzdump: 1, 'system-mail': 1, 'some-new-thing': 1, 'error-without-node': 1 });
  });

  it('accepts the target test (no fields at all), so the "Test" button proves path and credentials', async () => {
    h = harness();
    const r = await send({ title: 'Test notification', message: "This is a test of the notification target 'vigil'", severity: 'info', timestamp: 1767225600, fields: {} });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'ignored', reason: 'notification without fields.type (Test notification)' });
  });

  it('?cluster= on the target URL picks between clusters that share node names', async () => {
    const views = [
      { name: 'pve-a', hosts: ['pve1', 'pve2'] },
      { name: 'pve-b', hosts: ['pve1', 'pve2'] },
    ];
    h = harness({ resolve: resolverFromInventory(() => views) });
    expect((await send(fencing('pve1', 'trying'))).json().hints).toEqual([
      { cluster: 'pve-a', host: 'pve1' },
      { cluster: 'pve-b', host: 'pve1' },
    ]);
    expect((await send(fencing('pve2', 'trying'), target('http://vigil.example:8080/hooks/proxmox?cluster=pve-b'))).json().hints).toEqual([{ cluster: 'pve-b', host: 'pve2' }]);
  });

  it('a node Vigil does not know: 202 and a warning', async () => {
    h = harness();
    const r = await send(fencing('pve9', 'trying'));
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'unresolved', warnings: ['no Vigil cluster matches host "pve9"'] });
    expect(h.warnings()).toEqual(['webhook: no Vigil cluster matches host "pve9"']);
  });

  it('also reads a body that is just {{ json fields }}', async () => {
    h = harness();
    const r = await send(fencing('pve3', 'trying'), { ...target(), body: b64('{{ json fields }}') });
    expect(r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'pve', host: 'pve3' }] });
  });

  it('400 with a reason for a body it cannot read, including a naive template broken by a quote', async () => {
    h = harness();
    const naive = { ...target(), body: b64('{"title": "{{ title }}", "fields": {{ json fields }} }') };
    const cases: [Awaited<ReturnType<typeof send>>, RegExp][] = [
      [await send({ ...fencing('pve2', 'trying'), title: `node 'pve2' said "bye"` }, naive), /^body is not JSON/],
      [await h.app.inject({ method: 'POST', url: '/hooks/proxmox', headers: { authorization: `Bearer ${TOKEN}` }, payload: '{"title": "x"}' }), /no "fields" object/],
      [await h.app.inject({ method: 'POST', url: '/hooks/proxmox', headers: { authorization: `Bearer ${TOKEN}` }, payload: 'severity=error' }), /^body is not JSON/],
      [await h.app.inject({ method: 'POST', url: '/hooks/proxmox', headers: { authorization: `Bearer ${TOKEN}` }, payload: '"fencing"' }), /not a JSON object/],
    ];
    for (const [r, reason] of cases) {
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toMatch(reason);
    }
    expect(h.hints).toEqual([]);
  });
});

describe('docs/webhooks.md', () => {
  const doc = readFileSync(builtinPath('docs', 'webhooks.md'), 'utf8');

  it('shows the exact body template, and its pvesh form decodes to it', () => {
    expect(doc).toContain(`\n${PROXMOX_BODY_TEMPLATE}\n`);
    const body = /--body (\S+)/.exec(doc)?.[1];
    expect(body && Buffer.from(body, 'base64').toString('utf8')).toBe(PROXMOX_BODY_TEMPLATE);
    const headers = [...doc.matchAll(/--header name=([\w-]+),value=(\S+)/g)].map((m) => [m[1], Buffer.from(m[2] as string, 'base64').toString('utf8')]);
    expect(headers).toEqual([
      ['Content-Type', 'application/json'],
      ['Authorization', PROXMOX_AUTH_HEADER_TEMPLATE],
    ]);
  });

  it('uses the API shape Proxmox itself reports for a webhook target (lower-case method, base64 body)', () => {
    // go-proxmox's mock of GET /cluster/notifications/endpoints/webhook/{name}.
    const reported = fixtureJson('go-proxmox-pve9x-cluster-notifications-endpoints-webhook-wh1.json').data;
    expect(reported.method).toBe('post');
    expect(JSON.parse(Buffer.from(reported.body, 'base64').toString('utf8'))).toEqual({ hello: 'world' });
    expect(doc).toContain(`--method ${reported.method} `);
  });
});
