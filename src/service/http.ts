/**
 * The service's HTTP surface (interfaces.md "HTTP"): liveness, readiness
 * and the status API.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Controller } from './assemble.js';

export function buildServiceHttp(controller: Controller): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const ready = controller.ready();
    return reply.code(ready ? 200 : 503).send({ ready, clusters: controller.clusters.map((c) => ({ name: c.name, polled: c.polls > 0 })) });
  });
  app.get('/api/v1/status', async () => controller.status());
  return app;
}
