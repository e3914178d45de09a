/**
 * The status page for people (interfaces.md "HTTP", `GET /`): one HTML
 * file, one script and one stylesheet, served as they are from the package
 * (no front-end build step). The script reads `/api/v1/status` itself.
 *
 * Promises: only the files listed here are served (no directory is
 * exposed); every answer carries a strict Content-Security-Policy (no inline
 * script or style, nothing from another origin); files are read once, at
 * registration, so a missing file fails the start, not a request at 3 a.m.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { builtinPath } from '../../paths.js';

/** Where the page's files are, from the package root (package.json `files` ships it). */
export const PAGE_ASSETS_DIR = 'src/service/page/assets';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  readonly route: string;
  readonly file: string;
  readonly type: string;
}

// Paths relative to the page (the HTML links them without a leading slash), so the page also works behind a proxy under a prefix.
const ASSETS: readonly Asset[] = [
  { route: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { route: '/assets/status.js', file: 'status.js', type: 'text/javascript; charset=utf-8' },
  { route: '/assets/status.css', file: 'status.css', type: 'text/css; charset=utf-8' },
  { route: '/favicon.svg', file: 'favicon.svg', type: 'image/svg+xml' },
];

export interface StatusPageOptions {
  /** Directory holding the page's files; the package's own by default. */
  readonly dir?: string;
}

export function registerStatusPage(app: FastifyInstance, options: StatusPageOptions = {}): void {
  const dir = options.dir ?? builtinPath(PAGE_ASSETS_DIR);
  for (const asset of ASSETS) {
    const body = readFileSync(join(dir, asset.file));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    app.get(asset.route, async (req: FastifyRequest, reply: FastifyReply) => {
      // no-cache = revalidate every time: a tab left open across an upgrade gets the new script, and a 304 costs nothing.
      reply
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY')
        .header('cache-control', 'no-cache')
        .header('etag', etag);
      if (matches(req.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply.type(asset.type).send(body);
    });
  }
}

function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}
