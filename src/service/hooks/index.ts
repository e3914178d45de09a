/**
 * The webhook receivers (interfaces.md "HTTP"): POST /hooks/vsphere,
 * /hooks/proxmox and /hooks/generic, in their own fastify scope so their
 * body handling, limits and error replies touch no other route.
 *
 * Per request, cheapest refusal first:
 *   rate limit per source address (429, before the body is read)
 *   -> body at most 1 MiB, kept raw for the signature (413)
 *   -> credentials: Bearer token or HMAC signature (401)
 *   -> read the platform's format (400 with a short reason)
 *   -> duplicates, ignored types, unknown hosts or clusters (202, counted)
 *   -> one hint per target, handed to `onHint` (202)
 * A hook never acts: the hint only asks the controller to look again.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HookAuthenticator } from './auth.js';
import { Counters } from './counters.js';
import { HintDispatcher } from './dispatch.js';
import type { ReadResult } from './event.js';
import { readGenericHook } from './generic.js';
import { readProxmoxHook } from './proxmox.js';
import { RateLimiter } from './rate-limit.js';
import { ThrottledWarn } from './throttled-warn.js';
import { DEFAULT_LIMITS, type HookLimits, type HookSource, type HooksDeps, type HooksHandle } from './types.js';
import { readVsphereHook } from './vsphere.js';

export * from './types.js';
export { webhookConfigSchema, webhookSettings, type WebhookConfig, type WebhookSettings } from './config.js';
export { resolverFromInventory, type ClusterView, type ResolverOptions } from './resolver.js';
export { signBody } from './auth.js';
export { PROXMOX_BODY_TEMPLATE, PROXMOX_AUTH_HEADER_TEMPLATE } from './proxmox.js';

const ROUTES: readonly [HookSource, string][] = [
  ['vsphere', '/hooks/vsphere'],
  ['proxmox', '/hooks/proxmox'],
  ['generic', '/hooks/generic'],
];

export function registerHooks(app: FastifyInstance, deps: HooksDeps): HooksHandle {
  const limits: HookLimits = { ...DEFAULT_LIMITS, ...definedOnly(deps.limits ?? {}) };
  const logger = deps.logger.child({ component: 'webhooks' });
  const now = () => deps.clock.now();
  const counters = new Counters(deps.metrics);
  const auth = new HookAuthenticator(deps.auth, now, limits.maxRemembered);
  const limiter = new RateLimiter(limits.ratePerSecond, limits.rateBurst, limits.maxSources);
  const warn = new ThrottledWarn(logger, now);
  const dispatcher = new HintDispatcher(deps, limits, counters, warn, logger);
  if (!auth.configured) logger.warn('no webhook token or HMAC secret is configured: every hook will be refused with 401');
  else if (deps.auth.allowUnauthenticated && !deps.auth.tokens?.length && !deps.auth.hmacSecrets?.length) logger.warn('webhooks accept requests without credentials');

  const readers: Record<HookSource, (req: FastifyRequest, body: Buffer) => ReadResult> = {
    vsphere: (req, body) => readVsphereHook(req.headers, body),
    proxmox: (_req, body) => readProxmoxHook(body),
    generic: (req, body) => readGenericHook(body, clusterParam(req)),
  };

  void app.register(async (scope) => {
    // Every media type is read as raw bytes: the signature covers exactly what was sent, and each route parses its own format.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.maxBodyBytes }, (_req, body, done) => done(null, body));

    scope.addHook('onRequest', async (req, reply) => {
      const taken = limiter.take(req.ip, now());
      if (taken.ok) return;
      counters.limited(sourceOf(req));
      return reply.code(429).header('retry-after', String(taken.retryAfterSeconds)).send({ error: 'too many requests' });
    });

    scope.addHook('onResponse', async (req, reply) => {
      counters.request(sourceOf(req), reply.statusCode);
    });

    scope.setErrorHandler(async (err: { statusCode?: number; code?: string }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status === 413) return reply.code(413).send({ error: `body over ${describeBytes(limits.maxBodyBytes)}` });
      if (status >= 400 && status < 500) return reply.code(400).send({ error: `cannot read the request (${err.code ?? 'bad request'})` });
      logger.error({ err: err.code ?? 'error', source: sourceOf(req) }, 'webhook: internal error');
      return reply.code(500).send({ error: 'internal error' });
    });

    for (const [source, url] of ROUTES) {
      scope.post(url, async (req, reply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const who = auth.check(req.headers, body, queryParam(req, 'token', 4096));
        if (!who.ok) return unauthorized(reply, who.reason);
        const read = readers[source](req, body);
        if (!read.ok) return reply.code(400).send({ error: read.reason });
        return reply.code(202).send(dispatcher.dispatch(read.event, clusterParam(req)));
      });
    }
  });

  return {
    stats: () => counters.snapshot(),
    setAuth: (settings) => {
      auth.replace(settings);
      if (!auth.configured) logger.warn('no webhook token or HMAC secret is configured: every hook will be refused with 401');
    },
  };
}

function unauthorized(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(401).header('www-authenticate', 'Bearer realm="vigil-webhooks"').send({ error: reason });
}

function sourceOf(req: FastifyRequest): HookSource {
  const path = req.url.split('?')[0] ?? '';
  return path.endsWith('/proxmox') ? 'proxmox' : path.endsWith('/generic') ? 'generic' : 'vsphere';
}

/** `?cluster=NAME` on a hook URL pins its events to one Vigil cluster (e.g. two Proxmox clusters with the same node names). */
function clusterParam(req: FastifyRequest): string | undefined {
  return queryParam(req, 'cluster', 255);
}

function queryParam(req: FastifyRequest, name: string, maxChars: number): string | undefined {
  const q = req.query as Record<string, unknown> | undefined;
  const v = q?.[name];
  return typeof v === 'string' && v.length > 0 && v.length <= maxChars ? v : undefined;
}

function describeBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
