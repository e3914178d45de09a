/**
 * The service's HTTP surface (interfaces.md "HTTP"): liveness, readiness,
 * the status API, and the operator's controls (freeze, unfreeze, fence
 * confirmation). Controls change what the controller may do, so they need
 * the service's token when one is configured (controller.webhook.tokenFile);
 * without one, only this machine (a loopback peer) may use them. The
 * webhook receivers are registered beside these by `vigil run`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock } from '../clock/clock.js';
import type { Controller } from './assemble.js';
import type { ServiceMetrics } from './metrics.js';
import { registerStatusPage } from './page/index.js';
import { registerPlanRoutes } from './plan-routes.js';

export interface ServiceHttpOptions {
  readonly clock: Clock;
  /** Bearer tokens the control routes accept (the webhook tokens), read on each request so a reload applies. */
  readonly tokens?: readonly string[] | (() => readonly string[]);
  readonly metrics?: ServiceMetrics;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function buildServiceHttp(controller: Controller, options?: ServiceHttpOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  const clock = options?.clock;
  const now = () => clock?.now() ?? Date.now();
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const ready = controller.ready();
    return reply.code(ready ? 200 : 503).send({ ready, clusters: controller.clusters.map((c) => ({ name: c.name, polled: c.polls > 0 })) });
  });
  app.get('/api/v1/status', async () => controller.status());
  const metrics = options?.metrics;
  if (metrics) {
    app.get('/metrics', async (_req, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  }

  const authorized = (req: FastifyRequest, reply: FastifyReply): boolean => {
    const configured = options?.tokens;
    const tokens = typeof configured === 'function' ? configured() : (configured ?? []);
    if (!tokens.length) {
      if (LOOPBACK.test(req.socket.remoteAddress ?? '')) return true;
      void reply.code(403).send({ error: { code: 'forbidden', message: 'controls are open only to this machine while no token is configured (controller.webhook.token or tokenFile)' } });
      return false;
    }
    const given = createHash('sha256').update(req.headers.authorization?.replace(/^Bearer /, '') ?? '').digest();
    // Compare digests, so every comparison has the same length and takes the same time.
    if (tokens.some((t) => timingSafeEqual(given, createHash('sha256').update(t).digest()))) return true;
    void reply.code(401).send({ error: { code: 'unauthorized', message: 'a valid Bearer token is required' } });
    return false;
  };
  const clusterNamed = (name: string | undefined, reply: FastifyReply): string | undefined => {
    if (name === undefined || name === '*') return '*';
    if (controller.cluster(name)) return name;
    void reply.code(404).send({ error: { code: 'unknown-cluster', message: `unknown cluster "${name}" (known: ${controller.clusters.map((c) => c.name).join(', ')})` } });
    return undefined;
  };
  type Body<T> = FastifyRequest<{ Body: T | undefined }>;

  app.post('/api/v1/freeze', async (req: Body<{ cluster?: string; reason?: string; by?: string }>, reply) => {
    if (!authorized(req, reply)) return reply;
    const cluster = clusterNamed(req.body?.cluster, reply);
    if (!cluster) return reply;
    await controller.journal.append({ type: 'freeze', cluster, reason: req.body?.reason ?? 'frozen by an operator', by: req.body?.by ?? 'operator', at: now() });
    for (const c of controller.clusters) c.requestReconcile();
    return { frozen: cluster };
  });
  app.post('/api/v1/unfreeze', async (req: Body<{ cluster?: string; by?: string }>, reply) => {
    if (!authorized(req, reply)) return reply;
    const cluster = clusterNamed(req.body?.cluster, reply);
    if (!cluster) return reply;
    const frozen = [...controller.journal.state().frozen.keys()];
    const targets = cluster === '*' ? frozen : frozen.filter((c) => c === cluster);
    for (const c of targets) await controller.journal.append({ type: 'unfreeze', cluster: c, by: req.body?.by ?? 'operator', at: now() });
    for (const c of controller.clusters) c.requestReconcile();
    return { unfrozen: targets };
  });
  app.post('/api/v1/fence/confirm', async (req: Body<{ host?: string; cluster?: string; by?: string }>, reply) => {
    if (!authorized(req, reply)) return reply;
    const host = req.body?.host;
    if (!host) return reply.code(400).send({ error: { code: 'bad-request', message: '"host" is required' } });
    const found = controller.clusters.filter((c) => (req.body?.cluster ? c.name === req.body.cluster : true) && c.status().hosts.some((h) => h.name === host));
    if (found.length !== 1) {
      const message = found.length ? `host "${host}" is in several clusters; name one with "cluster"` : `unknown host "${host}"`;
      return reply.code(found.length ? 409 : 404).send({ error: { code: found.length ? 'ambiguous-host' : 'unknown-host', message } });
    }
    const c = found[0] as NonNullable<(typeof found)[number]>;
    const state = c.status().hosts.find((h) => h.name === host)?.state;
    if (state !== 'notResponding') {
      return reply.code(409).send({ error: { code: 'host-responding', message: `the manager reports ${host} ${state}: a host it sees cannot be confirmed off` } });
    }
    await controller.journal.append({ type: 'fence-confirmed', cluster: c.name, host, by: req.body?.by ?? 'operator', at: now() });
    c.requestReconcile();
    return { confirmed: host, cluster: c.name };
  });
  registerPlanRoutes(app, { controller, ...(clock ? { clock } : {}), authorized });
  registerStatusPage(app);
  return app;
}
