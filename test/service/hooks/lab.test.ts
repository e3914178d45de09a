/**
 * End to end on the lab: the service's HTTP app with the hooks wired in as
 * the service will wire them, a real controller on the built-in lab behind
 * them, real time and a real socket. The poll interval is an hour, so the
 * only way the controller can look again during the test is the hint.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import type { VigilConfig } from '../../../src/config/load.js';
import { controllerSchema } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/log.js';
import { builtinPath } from '../../../src/paths.js';
import { PolicySet } from '../../../src/policy/policy-set.js';
import { assembleController, type Controller } from '../../../src/service/assemble.js';
import { buildServiceHttp } from '../../../src/service/http.js';
import { registerHooks, signBody, type WebhookHint } from '../../../src/service/hooks/index.js';
import { controllerHooks } from '../../../src/service/controller-hooks.js';
import simProvider, { SimProvider } from '../../../providers/sim/index.js';
import { SECRET, TOKEN } from './harness.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function until(what: string, check: () => boolean, deadlineMs = 5_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function service() {
  const clock = new SystemClock();
  const config: VigilConfig = {
    file: builtinPath('examples/lab.yaml'),
    builtin: false,
    baseDir: builtinPath('examples'),
    controller: controllerSchema.parse({ pollInterval: '1h' }),
    policiesDir: builtinPath('policies'),
    policiesExplicit: false,
    clusters: [{ config: simProvider.configSchema.parse({ name: 'lab', provider: 'sim', inventory: builtinPath('examples/lab.yaml') }), module: simProvider }],
    warnings: [],
  };
  const controller: Controller = await assembleController({ config, clock, logger: silentLogger(), policies: PolicySet.empty() });
  cleanup.push(() => controller.close());
  const provider = controller.providers.get('lab');
  const lab = provider instanceof SimProvider ? provider.lab : undefined;
  if (!lab) throw new Error('the test needs the in-process lab');

  // Wired exactly as `vigil run` wires them; the test also keeps a copy of each hint.
  const hints: { cluster: string; hint: WebhookHint }[] = [];
  const app = buildServiceHttp(controller);
  const deps = controllerHooks(controller, config, { auth: { tokens: [TOKEN], hmacSecrets: [SECRET] }, limits: {}, warnings: [] }, { clock, logger: silentLogger() });
  const hooks = registerHooks(app, {
    ...deps,
    onHint: (cluster, hint) => {
      hints.push({ cluster, hint });
      deps.onHint(cluster, hint);
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanup.push(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { controller, lab, hints, hooks, base, cluster: controller.cluster('lab')! };
}

describe('a webhook on the lab', () => {
  it('makes the controller look at the cluster at once: a failed host is seen without waiting for the next poll', async () => {
    const s = await service();
    s.controller.start();
    await until('the first poll', () => s.cluster.polls === 1);
    s.lab.failHost('esx-02');
    await new Promise((r) => setTimeout(r, 300));
    expect(s.cluster.polls).toBe(1);
    expect(s.cluster.status().hosts.find((h) => h.name === 'esx-02')?.state).toBe('connected');

    const body = JSON.stringify({ cluster: 'lab', host: 'esx-02', severity: 'critical', message: 'BMC: esx-02 powered off' });
    const r = await fetch(`${s.base}/hooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', ...signBody(SECRET, body, Math.floor(Date.now() / 1000)) }, body });
    expect(r.status).toBe(202);
    expect(await r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'lab', host: 'esx-02' }] });

    await until('a reconcile asked for by the hint', () => s.cluster.polls >= 2);
    expect(s.cluster.status().hosts.find((h) => h.name === 'esx-02')?.state).toBe('notResponding');
    expect(s.controller.decisions.recent(50, 'lab').some((d) => d.kind === 'host-health' && d.subject === 'esx-02')).toBe(true);
    expect(s.hints).toEqual([{ cluster: 'lab', hint: expect.objectContaining({ host: 'esx-02', source: 'generic', kind: 'report', severity: 'critical', message: 'BMC: esx-02 powered off' }) }]);
    // The hint only asked for a look: nothing was restarted on its word (esx-02 needs three polls to be failed).
    expect(s.lab.log().filter((e) => e.op === 'start')).toEqual([]);
  });

  it('answers 202 with a warning for a host the lab does not have, and asks for nothing', async () => {
    const s = await service();
    s.controller.start();
    await until('the first poll', () => s.cluster.polls === 1);
    const r = await fetch(`${s.base}/hooks/generic`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ host: 'esx-42', severity: 'critical' }) });
    expect(r.status).toBe(202);
    expect(await r.json()).toEqual({ status: 'unresolved', warnings: ['no Vigil cluster matches host "esx-42"'] });
    expect(s.hints).toEqual([]);
    // /readyz and the status API are untouched by the hooks.
    expect((await fetch(`${s.base}/readyz`)).status).toBe(200);
    expect((await fetch(`${s.base}/api/v1/status`)).status).toBe(200);
    expect(s.cluster.polls).toBe(1);
  });

  it('a vCenter event naming a lab host reaches the lab cluster', async () => {
    const s = await service();
    s.controller.start();
    await until('the first poll', () => s.cluster.polls === 1);
    const r = await fetch(`${s.base}/hooks/vsphere`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'e-1', 'ce-source': 'https://vc.lab/sdk', 'ce-type': 'com.vmware.vsphere.HostConnectionLostEvent.v0' },
      body: JSON.stringify({ Key: 1, CreatedTime: new Date().toISOString(), Host: { Name: 'esx-03.lab.local' }, FullFormattedMessage: 'Host esx-03.lab.local in lab is not responding' }),
    });
    expect(await r.json()).toEqual({ status: 'accepted', hints: [{ cluster: 'lab', host: 'esx-03' }] });
    await until('the reconcile', () => s.cluster.polls >= 2);
  });
});
