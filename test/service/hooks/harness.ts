/**
 * A fastify app with only the webhook receivers (and /healthz), a fake
 * clock, a resolver over a fixed inventory and a recorder for hints and
 * warnings. Tests post to it with `app.inject()`.
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { FakeClock } from '../../../src/clock/fake-clock.js';
import { builtinPath } from '../../../src/paths.js';
import { registerHooks, resolverFromInventory, type ClusterView, type HookLimits, type HookMetrics, type HooksDeps, type HooksHandle, type WebhookHint } from '../../../src/service/hooks/index.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const SECRET = 'test-hmac-secret-0123456789abcdef';

/** Host names as they appear in the VEBA samples, spread over two clusters. */
export const INVENTORY: ClusterView[] = [
  { name: 'prod', hosts: ['10.185.22.74', 'esxi1.local', '10.161.167.160', '192.168.30.5'], platformCluster: 'cls' },
  { name: 'lab', hosts: ['esx-01', 'esx-02', 'esx-03', 'esx-04'] },
  { name: 'ha-lab', hosts: ['esx02.cl.vmweventbroker.io'], platformCluster: 'CL1' },
  { name: 'pve', hosts: ['pve1', 'pve2', 'pve3'] },
];

export interface Harness {
  readonly app: FastifyInstance;
  readonly clock: FakeClock;
  readonly hooks: HooksHandle;
  readonly hints: { cluster: string; hint: WebhookHint }[];
  readonly logs: { level: number; msg: string; [k: string]: unknown }[];
  warnings(): string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly auth?: HooksDeps['auth'];
  readonly limits?: Partial<HookLimits>;
  readonly metrics?: HookMetrics;
  readonly onHint?: HooksDeps['onHint'];
  readonly resolve?: HooksDeps['resolve'];
}

export function harness(o: HarnessOptions = {}): Harness {
  const clock = new FakeClock();
  const logs: Harness['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.get('/healthz', async () => ({ ok: true }));
  const hints: Harness['hints'] = [];
  const hooks = registerHooks(app, {
    auth: o.auth ?? { tokens: [TOKEN], hmacSecrets: [SECRET] },
    resolve: o.resolve ?? resolverFromInventory(() => INVENTORY),
    onHint: o.onHint ?? ((cluster, hint) => hints.push({ cluster, hint })),
    clock,
    logger,
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.metrics ? { metrics: o.metrics } : {}),
  });
  return {
    app,
    clock,
    hooks,
    hints,
    logs,
    warnings: () => logs.filter((l) => l.level === 40).map((l) => l.msg),
    close: () => app.close(),
  };
}

export function fixture(name: string): string {
  return readFileSync(builtinPath('test', 'fixtures', 'webhooks', name), 'utf8');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- samples are edited freely in tests
export function fixtureJson(name: string): Record<string, any> {
  return JSON.parse(fixture(name));
}

export const bearer = { authorization: `Bearer ${TOKEN}` };
