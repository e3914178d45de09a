/**
 * The planned-work routes of the service (docs/planned-work.md):
 *
 *   POST /api/v1/plans              {request, dryRun?, expect?, maxParallel?}
 *        dryRun: 200 {plans}; else 202 {id, plan} (409 when refused or the
 *        agreed plan `expect` is no longer the plan Vigil would make)
 *   GET  /api/v1/plans              the plans this service knows
 *   GET  /api/v1/plans/{id}?since=N the plan, each action's state, the events after N
 *   POST /api/v1/plans/{id}/stop    no new action starts; running ones finish
 *
 * Every route needs the service's Bearer token when one is configured, as
 * the control routes do: plans move VMs.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SystemClock, type Clock } from '../clock/clock.js';
import { ErrorCodes, isVigilError, messageOf } from '../errors.js';
import { planRequestSchema } from '../plan/planned-request.js';
import type { Controller } from './assemble.js';
import { PlanService } from './plan-service.js';

export interface PlanRouteDeps {
  readonly controller: Controller;
  readonly clock?: Clock;
  /** The control routes' check (Bearer token, or this machine only while none is configured): false when it has answered. */
  readonly authorized: (req: FastifyRequest, reply: FastifyReply) => boolean;
}

const bodySchema = z.strictObject({
  request: planRequestSchema,
  dryRun: z.boolean().optional(),
  expect: z.looseObject({ phases: z.array(z.array(z.unknown())) }).optional(),
  maxParallel: z.number().int().min(1).max(256).optional(),
});

export function registerPlanRoutes(app: FastifyInstance, deps: PlanRouteDeps): PlanService {
  const service = new PlanService({ controller: deps.controller, clock: deps.clock ?? new SystemClock() });
  const { authorized } = deps;
  type ById = FastifyRequest<{ Params: { id: string }; Querystring: { since?: string } }>;

  app.post('/api/v1/plans', async (req: FastifyRequest<{ Body: unknown }>, reply) => {
    if (!authorized(req, reply)) return reply;
    const parsed = bodySchema.safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: { code: 'bad-request', message: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') } });
    const body = parsed.data;
    try {
      if (body.dryRun) return { plans: await service.preview(body.request) };
      const entry = await service.start(body.request, body.expect, body.maxParallel);
      return reply.code(202).send({ id: entry.id, plan: entry.plan });
    } catch (e) {
      return sendError(reply, e);
    }
  });
  app.get('/api/v1/plans', async (req, reply) => {
    if (!authorized(req, reply)) return reply;
    return { plans: service.list() };
  });
  app.get('/api/v1/plans/:id', async (req: ById, reply) => {
    if (!authorized(req, reply)) return reply;
    const since = Number(req.query.since ?? 0);
    const st = service.status(req.params.id, Number.isFinite(since) ? since : 0);
    return st ?? reply.code(404).send({ error: { code: 'unknown-plan', message: `unknown plan "${req.params.id}"` } });
  });
  app.post('/api/v1/plans/:id/stop', async (req: ById, reply) => {
    if (!authorized(req, reply)) return reply;
    const st = service.stop(req.params.id);
    return st ? reply.code(202).send({ id: st.id, state: st.state }) : reply.code(404).send({ error: { code: 'unknown-plan', message: `unknown plan "${req.params.id}"` } });
  });
  return service;
}

function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  if (!isVigilError(e) || !e.expected) return reply.code(500).send({ error: { code: ErrorCodes.INTERNAL, message: messageOf(e) } });
  const status = e.code === ErrorCodes.UNKNOWN_VM || e.code === ErrorCodes.UNKNOWN_HOST || e.code === ErrorCodes.UNKNOWN_CLUSTER ? 404 : e.code === ErrorCodes.PROVIDER_UNAVAILABLE ? 503 : 409;
  return reply.code(status).send({ error: { code: e.code, message: e.message } });
}
