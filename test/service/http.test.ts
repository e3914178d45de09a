import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { builtinPath } from '../../src/paths.js';
import { loadConfigPolicies } from '../../src/policy/resolve.js';
import { assembleController } from '../../src/service/assemble.js';
import { buildServiceHttp } from '../../src/service/http.js';

describe('service HTTP', () => {
  it('is live at once, ready after the first poll, and serves the status', async () => {
    const clock = new FakeClock();
    const config = await loadConfig(builtinPath('examples/builtin.yaml'), true);
    const controller = await assembleController({ config, clock, logger: silentLogger(), policies: loadConfigPolicies(config), purpose: 'oneshot' });
    const app = buildServiceHttp(controller);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    controller.start();
    await clock.advance(1);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    const status = (await app.inject({ url: '/api/v1/status' })).json();
    expect(status.source).toBe('service');
    expect(status.clusters[0].hosts).toHaveLength(4);
    await controller.close();
  });
});
