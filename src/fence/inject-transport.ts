/**
 * An HttpTransport that calls a Fastify app in memory (`app.inject`), with
 * no socket and no timer: the lab's BMCs, fenced from simulated-time
 * scenarios, tests and the in-process demo. The URL's path and query go to
 * the app; its scheme and host are only for messages. Timeouts do not
 * apply (nothing waits on a network), the abort signal does.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpResponse, HttpTransport } from './types.js';

export function injectTransport(app: FastifyInstance): HttpTransport {
  return async (req, signal): Promise<HttpResponse> => {
    signal?.throwIfAborted();
    const url = new URL(req.url);
    const headers: Record<string, string> = { host: url.host, ...req.headers };
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
    const res = await app.inject({ method: req.method, url: `${url.pathname}${url.search}`, headers, ...(payload === undefined ? {} : { payload }) });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v);
      else if (Array.isArray(v)) out[k.toLowerCase()] = v.join(', ');
    }
    let body: unknown = undefined;
    if (res.body.trim() !== '') {
      try {
        body = JSON.parse(res.body) as unknown;
      } catch {
        body = res.body;
      }
    }
    return { status: res.statusCode, headers: out, body };
  };
}
