/**
 * The status page in a real headless Chromium (Debian's, driven by
 * playwright-core). First end to end: a controller on the built-in lab in
 * real time, the service's HTTP app with the page, a lab host fails and the
 * page shows it by itself. Then the states the lab cannot reach on its own
 * yet, served as status reports taken from the lab and extended.
 *
 * VIGIL_PAGE_SHOTS=DIR also writes a PNG of each state, light and dark, to
 * look at by eye (the assertions run either way).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import type { VigilConfig } from '../../../src/config/load.js';
import { controllerSchema } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/log.js';
import { builtinPath } from '../../../src/paths.js';
import { loadPolicyDir } from '../../../src/policy/load.js';
import { assembleController, type Controller } from '../../../src/service/assemble.js';
import { buildServiceHttp } from '../../../src/service/http.js';
import { registerStatusPage } from '../../../src/service/page/index.js';
import type { StatusReport } from '../../../src/service/status.js';
import simProvider, { SimProvider } from '../../../providers/sim/index.js';
import type { Lab } from '../../../providers/sim/lab.js';
import type { PageCluster } from '../../../src/service/page/assets/status.js';
import { launchChromium, watchForErrors } from '../../helpers/chromium.js';
import { HOSTILE_VM, pageStates, type PageStates } from './states.js';

const SHOTS = process.env.VIGIL_PAGE_SHOTS;
const WAIT = { timeout: 15_000 };

let browser: Browser;
let states: PageStates;

beforeAll(async () => {
  [browser, states] = await Promise.all([launchChromium(), pageStates()]);
});

afterAll(async () => {
  await browser?.close();
});

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
}

/** The page alone, over a status report the test controls. */
async function servePage(report: () => StatusReport | { code: number }): Promise<{ url: string; app: FastifyInstance; requests: () => number }> {
  const app = Fastify({ logger: false });
  registerStatusPage(app);
  let requests = 0;
  app.get('/api/v1/status', async (_req, reply) => {
    requests += 1;
    const r = report();
    return 'code' in r ? reply.code(r.code).send({ error: 'unavailable' }) : r;
  });
  return { url: await listen(app), app, requests: () => requests };
}

async function labController(): Promise<{ controller: Controller; lab: Lab }> {
  const policies = loadPolicyDir(builtinPath('policies'));
  if (!policies.policies) throw new Error(policies.problems.map((p) => p.message).join('\n'));
  const config: VigilConfig = {
    file: builtinPath('examples/builtin.yaml'),
    builtin: false,
    baseDir: builtinPath('examples'),
    // Real time, kept short: a failed host is declared after two missed polls, well under a second apart.
    controller: controllerSchema.parse({ pollInterval: '300ms', detection: { failAfterPolls: 2 }, execution: { taskPollInterval: '100ms', taskTimeout: '30s', retries: 1 } }),
    policiesDir: builtinPath('policies'),
    policiesExplicit: true,
    clusters: [
      {
        config: simProvider.configSchema.parse({
          name: 'lab',
          provider: 'sim',
          inventory: builtinPath('examples/lab.yaml'),
          timings: { migrationBaseMs: 100, migrationGiBPerSecond: 100, powerOnBaseMs: 100, powerOnMsPerGiB: 0, powerOffMs: 50, maintenanceMs: 100 },
        }),
        module: simProvider,
      },
    ],
    warnings: [],
  };
  const controller = await assembleController({ config, clock: new SystemClock(), logger: silentLogger(), policies: policies.policies });
  const provider = controller.providers.get('lab');
  const lab = provider instanceof SimProvider ? provider.lab : undefined;
  if (!lab) throw new Error('expected the in-process lab');
  return { controller, lab };
}

/** The row of a host in the (first) hosts table. */
function hostRow(page: Page, host: string) {
  return page.getByRole('table', { name: 'Hosts' }).first().locator('tbody tr', { has: page.locator('th', { hasText: host }) });
}

/** What the browser does when the tab is hidden or shown again (headless tabs never are). */
function setVisibility(state: 'hidden' | 'visible'): string {
  return `Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${state}' }); document.dispatchEvent(new Event('visibilitychange'));`;
}

async function shoot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(SHOTS, `${name}-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('status page in Chromium', () => {
  it('shows the lab, then a failed host without a reload, with no console errors or failed requests', async () => {
    const { controller, lab } = await labController();
    const app = buildServiceHttp(controller);
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      controller.start();
      const url = await listen(app);
      const page = await context.newPage();
      const errors = watchForErrors(page);
      await page.goto(`${url}?refresh=1`);

      await page.getByRole('heading', { level: 2, name: /^lab\b/ }).waitFor(WAIT);
      for (const host of ['esx-01', 'esx-02', 'esx-03', 'esx-04']) await hostRow(page, host).filter({ hasText: 'healthy' }).waitFor(WAIT);
      expect(await page.locator('.summary').textContent()).toMatch(/all clear/i);
      // Landmarks, and tables named by their headings.
      for (const role of ['banner', 'navigation', 'main', 'contentinfo'] as const) expect(await page.getByRole(role).count()).toBe(1);
      for (const name of ['Clusters', 'Hosts', 'Datastores']) expect(await page.getByRole('table', { name }).count()).toBe(1);
      // The same document from here on: the page must update itself.
      // (Page scripts are strings: this project's TypeScript has no DOM types.)
      await page.evaluate('window.marker = 42');

      lab.failHost('esx-03');
      await hostRow(page, 'esx-03').filter({ hasText: /failed/i }).waitFor(WAIT);
      expect(await hostRow(page, 'esx-03').getAttribute('class')).toContain('sev-bad');
      expect(await hostRow(page, 'esx-03').textContent()).toMatch(/not responding/);
      await page.locator('.summary', { hasText: /esx-03 failed/ }).waitFor(WAIT);
      // The timeline says why, newest first.
      const timeline = page.getByRole('table', { name: /Recent decisions/ });
      await timeline.locator('tr', { hasText: /suspect -> failed/ }).waitFor(WAIT);
      const times = await timeline.locator('tbody time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime') ?? '')));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(await page.title()).toMatch(/problem/);

      expect(await page.evaluate('window.marker')).toBe(42);
      expect(await page.evaluate("performance.getEntriesByType('navigation').length")).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
      await controller.close();
    }
  });

  it('shows VMs waiting for a fence, failed fencing and unplaced VMs, and renders names as text', async () => {
    const { url, app } = await servePage(() => states.fenceWait);
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const page = await context.newPage();
      const errors = watchForErrors(page);
      await page.goto(url);
      const waiting = page.getByRole('table', { name: 'VMs waiting or moving' });
      await waiting.locator('tr', { hasText: 'waiting for fence' }).first().waitFor(WAIT);
      const rows = await waiting.locator('tbody tr').allTextContents();
      expect(rows[0]).toMatch(/unplaced.*batch-01.*32 GiB/i);
      expect(rows.filter((r) => /waiting for fence/.test(r)).length).toBe((states.fenceWait.clusters[0] as PageCluster).awaitingFence?.length);
      expect(rows.some((r) => r.includes(HOSTILE_VM))).toBe(true);
      expect(await page.locator('section.cluster img').count()).toBe(0);
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(await hostRow(page, 'esx-03').textContent()).toMatch(/fencing failed after 3 attempts: Redfish/);
      const local = page.locator('tr', { has: page.locator('th', { hasText: 'local-esx-04' }) });
      expect(await local.textContent()).toMatch(/unknown/);
      expect(await page.locator('.capacity-head').first().textContent()).toMatch(/short.*Tolerates 0 host failures; the policy wants 1\./i);
      await shoot(page, 'fence-wait');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  });

  it('shows a frozen cluster above everything else in it, and a second cluster beside it', async () => {
    const { url, app } = await servePage(() => states.frozen);
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const page = await context.newPage();
      const errors = watchForErrors(page);
      await page.goto(url);
      const lab = page.locator('section.cluster', { has: page.getByRole('heading', { level: 2, name: /^lab\b/ }) });
      await lab.locator('.banner', { hasText: 'Automatic actions are stopped' }).waitFor(WAIT);
      expect(await lab.locator('.banner').first().textContent()).toMatch(/frozen.*lost its view.*vigil unfreeze --cluster lab/is);
      expect(await lab.locator('.banner').nth(1).textContent()).toMatch(/poll failed.*503/is);
      const overview = page.getByRole('table', { name: 'Clusters' }).locator('tbody tr');
      expect(await overview.count()).toBe(2);
      expect(await overview.first().textContent()).toMatch(/lab.*frozen/i);
      expect(await overview.nth(1).textContent()).toMatch(/prod-pve.*2 problems.*ds-shared lost on esx-02/);
      await shoot(page, 'frozen');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  });

  it('shows datastore levels, degraded hosts and the forecast, unprotected VMs and replicas over their RPO', async () => {
    const { url, app } = await servePage(() => states.storage);
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const page = await context.newPage();
      const errors = watchForErrors(page);
      await page.goto(url);
      const shared = page.locator('tr', { has: page.locator('th', { hasText: 'ds-shared' }) });
      await shared.waitFor(WAIT);
      expect(await shared.textContent()).toMatch(/degraded on esx-03.*critical: 300 GiB.*full in ~36 hours/);
      const protection = page.getByRole('table', { name: 'Storage protection' }).locator('tbody tr');
      expect(await protection.allTextContents()).toEqual([
        expect.stringMatching(/db-01.*esx-01.*replica over RPO.*replica on esx-02: last sync 25 min ago; RPO 15 min \(error, unhealthy\)/),
        expect.stringMatching(/web-04.*esx-04.*unprotected.*local storage \(local-esx-04\)/),
      ]);
      const overview = page.getByRole('table', { name: 'Clusters' }).locator('tbody tr');
      expect(await overview.first().textContent()).toMatch(/ds-shared critically low on space/);
      expect(await overview.first().textContent()).toMatch(/replica of db-01 over RPO/);
      await shoot(page, 'storage');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await app.close();
    }
  });

  it('says when the controller stops answering, recovers by itself, and pauses while hidden', async () => {
    let down = false;
    const { url, app, requests } = await servePage(() => (down ? { code: 503 } : states.healthy));
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const page = await context.newPage();
      await page.goto(`${url}?refresh=1`);
      await page.locator('.summary', { hasText: /all clear/i }).waitFor(WAIT);
      await shoot(page, 'healthy');

      down = true;
      const conn = page.locator('#conn');
      await conn.filter({ hasText: /No answer from the controller since .* \(HTTP 503\)/ }).waitFor(WAIT);
      expect(await page.locator('#updated').textContent()).toMatch(/^Stale/);
      expect(await page.locator('.summary').textContent()).toMatch(/stale.*Last known: All clear/i);
      expect(await page.title()).toBe('no answer · Vigil');
      await shoot(page, 'no-answer');
      // The last good data stays on screen, marked as possibly out of date.
      expect(await hostRow(page, 'esx-01').count()).toBe(1);
      down = false;
      await conn.waitFor({ state: 'hidden', ...WAIT });

      await page.evaluate(setVisibility('hidden'));
      const whenHidden = requests();
      // Proving an absence takes a wait: three refresh periods without a request (one already on its way may land).
      await new Promise((r) => setTimeout(r, 3_000));
      expect(requests()).toBeLessThanOrEqual(whenHidden + 1);
      const beforeShown = requests();
      await page.evaluate(setVisibility('visible'));
      await expect.poll(requests, WAIT).toBeGreaterThan(beforeShown);

      // The controller gone altogether: nothing listens any more.
      await app.close();
      await conn.filter({ hasText: /No answer from the controller since .* \(network error\)/ }).waitFor(WAIT);
    } finally {
      await context.close();
      await app.close();
    }
  });
});
