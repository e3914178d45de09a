/**
 * The service's planned-work routes, through HTTP inject, on a controller
 * assembled as `vigil run` does: a plan is previewed, agreed to, run
 * through the controller's executor and journal, and followed by id.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildServiceHttp } from '../../src/service/http.js';
import { harness, POLICIES, UNBALANCED, type Harness } from './planned-harness.js';

const TOKEN = 's3cret-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let h: Harness | undefined;
afterEach(async () => {
  await h?.controller.close();
  h = undefined;
});

async function started() {
  h = await harness(UNBALANCED, POLICIES);
  const app = buildServiceHttp(h.controller, { clock: h.clock, tokens: [TOKEN] });
  h.controller.start();
  await h.clock.advance(1);
  return { h, app };
}

describe('POST /api/v1/plans', () => {
  it('needs the token, reads the body strictly, and names unknown things', async () => {
    const { app } = await started();
    const body = { request: { kind: 'evacuate', host: 'h1' }, dryRun: true };
    expect((await app.inject({ method: 'POST', url: '/api/v1/plans', payload: body })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/v1/plans', payload: body, headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/v1/plans' })).statusCode).toBe(401);
    const bad = await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'evacuate' } }, headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('request.host');
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'migrate', vm: 'app-01', to: 'h2' } }, headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toEqual({ code: 'VIGIL_E_UNKNOWN_VM', message: 'unknown VM "app-01" (did you mean "app-1"?)' });
    const refused = await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'migrate', vm: 'db-1', to: 'h2' } }, headers: auth });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.message).toBe('cannot migrate db-1 to h2: h2 breaks anti-affinity group db (db-2 runs there)');
  });

  it('previews, then runs the agreed plan through the controller: journaled, tagged, followed to its end', async () => {
    const { h, app } = await started();
    const preview = await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'evacuate', host: 'h1' }, dryRun: true }, headers: auth });
    expect(preview.statusCode).toBe(200);
    const [plan] = preview.json().plans;
    expect(plan.title).toBe('evacuate h1: 10 live migrations, then enter maintenance');
    expect(h.lab.log()).toEqual([]);

    const run = await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'evacuate', host: 'h1' }, expect: plan, maxParallel: 3 }, headers: auth });
    expect(run.statusCode).toBe(202);
    const { id } = run.json();
    const status = async (since = 0) => (await app.inject({ url: `/api/v1/plans/${id}?since=${since}`, headers: auth })).json();
    expect((await status()).state).toBe('running');
    // One planned-work plan per cluster at a time.
    const second = await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'rebalance', cluster: 'lab', threshold: 0 } }, headers: auth });
    expect(second.statusCode).toBe(409);
    expect(second.json().error.message).toMatch(new RegExp(`^plan ${id} \\(evacuate h1: .*\\) is still running on cluster lab`));

    let final: { state: string; result?: { succeeded: number; failed: number }; events: { seq: number; type: string }[] } | undefined;
    for (let i = 0; i < 300 && final?.state !== 'done'; i++) {
      await h.clock.advance(1_000);
      final = await status();
    }
    expect(final?.result).toMatchObject({ succeeded: 11, failed: 0, notStarted: 0 });
    const after = await status(final?.events.at(-2)?.seq ?? 0);
    expect(after.events.map((e: { type: string }) => e.type)).toEqual(['done']);
    expect(h.lab.snapshot('lab').hosts.find((x) => x.name === 'h1')?.state).toBe('maintenance');
    expect(h.lab.log().filter((e) => e.op === 'migrate' && !e.error)).toHaveLength(10);
    expect(h.lab.log().some((e) => e.to === 'h4')).toBe(false);
    // The controller's journal holds every action with its outcome, and its decisions name the plan.
    const intents = h.journal.all().filter((r) => r.type === 'intent');
    expect(intents).toHaveLength(11);
    expect(h.journal.all().filter((r) => r.type === 'outcome' && r.ok)).toHaveLength(11);
    expect(h.decisions.filter((d) => d.kind === 'action-succeeded' && d.data?.plan === id)).toHaveLength(11);
    expect(h.decisions.some((d) => d.message === `planned work ${id} ended: 11 succeeded, 0 failed, 0 not started`)).toBe(true);
    const list = (await app.inject({ url: '/api/v1/plans', headers: auth })).json();
    expect(list.plans).toEqual([expect.objectContaining({ id, cluster: 'lab', state: 'done' })]);
  });

  it('refuses an agreed plan that is no longer the plan Vigil would make, and a frozen cluster', async () => {
    const { h, app } = await started();
    const [plan] = (await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'evacuate', host: 'h1' }, dryRun: true }, headers: auth })).json().plans;
    h.lab.migrate('web-1', 'h2', true);
    await h.clock.advance(20_000);
    const stale = await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'evacuate', host: 'h1' }, expect: plan }, headers: auth });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.message).toMatch(/^the cluster changed since the plan was made \(no longer: migrate web-1 h1 -> h\d\); run the command again to see the new plan$/);
    await h.journal.append({ type: 'freeze', cluster: 'lab', reason: 'testing', by: 'operator', at: h.clock.now() });
    const frozen = await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'evacuate', host: 'h1' }, dryRun: true }, headers: auth });
    expect(frozen.statusCode).toBe(409);
    expect(frozen.json().error.message).toBe("cluster lab is frozen (testing (by operator)); planned work waits until 'vigil unfreeze --cluster lab'");
  });

  it('stops a plan: nothing more starts, the running ones finish', async () => {
    const { h, app } = await started();
    const run = await app.inject({ method: 'POST', url: '/api/v1/plans', payload: { request: { kind: 'evacuate', host: 'h1' }, maxParallel: 1 }, headers: auth });
    const { id } = run.json();
    await h.clock.advance(2_000);
    const stop = await app.inject({ method: 'POST', url: `/api/v1/plans/${id}/stop`, headers: auth });
    expect(stop.statusCode).toBe(202);
    expect(stop.json().state).toBe('stopping');
    let st;
    for (let i = 0; i < 120 && st?.state !== 'done'; i++) {
      await h.clock.advance(1_000);
      st = (await app.inject({ url: `/api/v1/plans/${id}`, headers: auth })).json();
    }
    expect(st.result).toMatchObject({ succeeded: 1, failed: 0, notStarted: 10, stopped: true });
    expect(h.lab.log().filter((e) => e.op === 'migrate')).toHaveLength(1);
    expect((await app.inject({ method: 'POST', url: '/api/v1/plans/nope/stop', headers: auth })).statusCode).toBe(404);
  });
});
