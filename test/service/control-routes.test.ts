/**
 * The operator's controls over HTTP (freeze, unfreeze, fence confirmation):
 * who may use them, what each refuses, and that what they accept is in the
 * journal before the answer.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { builtinPath } from '../../src/paths.js';
import { loadConfigPolicies } from '../../src/policy/resolve.js';
import { assembleController, type Controller } from '../../src/service/assemble.js';
import { buildServiceHttp } from '../../src/service/http.js';
import { SimProvider } from '../../providers/sim/index.js';

const TOKEN = 'control-token-0123456789abcdef';

async function setup(tokens: readonly string[] | (() => readonly string[]) = [TOKEN]): Promise<{ controller: Controller; app: ReturnType<typeof buildServiceHttp>; clock: FakeClock }> {
  const clock = new FakeClock();
  const config = await loadConfig(builtinPath('examples/builtin.yaml'), true);
  const controller = await assembleController({ config, clock, logger: silentLogger(), policies: loadConfigPolicies(config), purpose: 'oneshot' });
  const app = buildServiceHttp(controller, { clock, tokens });
  controller.start();
  await clock.advance(1);
  return { controller, app, clock };
}

const post = (app: ReturnType<typeof buildServiceHttp>, url: string, payload: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, remoteAddress?: string) =>
  app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers, ...(remoteAddress ? { remoteAddress } : {}) });

describe('control routes', () => {
  it('need the token when one is configured: 401 without it or with a wrong one', async () => {
    const { controller, app } = await setup();
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${TOKEN}` }] as Record<string, string>[]) {
      for (const url of ['/api/v1/freeze', '/api/v1/unfreeze', '/api/v1/fence/confirm']) {
        const r = await post(app, url, { cluster: 'lab', host: 'esx-01' }, headers);
        expect(r.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
      }
    }
    expect(controller.journal.state().frozen.size).toBe(0);
    await controller.close();
  });

  it('without a token, are open to this machine only: 403 for any other peer', async () => {
    const { controller, app } = await setup([]);
    const away = await post(app, '/api/v1/freeze', { cluster: 'lab' }, {}, '10.0.0.7');
    expect(away.statusCode).toBe(403);
    expect(away.json().error.message).toMatch(/no token is configured/);
    expect(controller.journal.state().frozen.size).toBe(0);
    expect((await post(app, '/api/v1/freeze', { cluster: 'lab' }, {}, '::1')).statusCode).toBe(200);
    expect((await post(app, '/api/v1/unfreeze', { cluster: 'lab' }, {}, '127.0.0.1')).statusCode).toBe(200);
    await controller.close();
  });

  it('read the tokens on every request, so a reload applies at once', async () => {
    let tokens = [TOKEN];
    const { controller, app } = await setup(() => tokens);
    expect((await post(app, '/api/v1/freeze', { cluster: 'lab' })).statusCode).toBe(200);
    tokens = ['rotated-0123456789abcdef'];
    expect((await post(app, '/api/v1/unfreeze', { cluster: 'lab' })).statusCode).toBe(401);
    expect((await post(app, '/api/v1/unfreeze', { cluster: 'lab' }, { authorization: 'Bearer rotated-0123456789abcdef' })).statusCode).toBe(200);
    await controller.close();
  });

  it('freeze and unfreeze a cluster through the journal; an unknown cluster is 404', async () => {
    const { controller, app } = await setup();
    expect((await post(app, '/api/v1/freeze', { cluster: 'nope' })).statusCode).toBe(404);
    const r = await post(app, '/api/v1/freeze', { cluster: 'lab', reason: 'storage work', by: 'alice' });
    expect(r.json()).toEqual({ frozen: 'lab' });
    expect(controller.journal.state().frozen.get('lab')).toMatchObject({ reason: 'storage work', by: 'alice' });
    expect((await post(app, '/api/v1/unfreeze', {})).json()).toEqual({ unfrozen: ['lab'] });
    expect(controller.journal.state().frozen.size).toBe(0);
    await controller.close();
  });

  it('fence confirm: 400 without a host, 404 for an unknown one, 409 while the manager still sees it, recorded once it does not', async () => {
    const { controller, app, clock } = await setup();
    expect((await post(app, '/api/v1/fence/confirm', {})).statusCode).toBe(400);
    expect((await post(app, '/api/v1/fence/confirm', { host: 'esx-99' })).statusCode).toBe(404);
    const seen = await post(app, '/api/v1/fence/confirm', { host: 'esx-03' });
    expect(seen.statusCode).toBe(409);
    expect(seen.json().error.code).toBe('host-responding');

    const provider = controller.providers.get('lab');
    const lab = provider instanceof SimProvider ? provider.lab : undefined;
    if (!lab) throw new Error('the test needs the in-process lab');
    lab.failHost('esx-03');
    for (let i = 0; i < 3 && controller.cluster('lab')?.status().hosts.find((h) => h.name === 'esx-03')?.state !== 'notResponding'; i++) await clock.advance(10_000);
    const ok = await post(app, '/api/v1/fence/confirm', { host: 'esx-03', by: 'bob' });
    expect(ok.json()).toEqual({ confirmed: 'esx-03', cluster: 'lab' });
    expect([...controller.journal.state().confirmed.keys()].some((k) => k.includes('esx-03'))).toBe(true);
    await controller.close();
  });
});
