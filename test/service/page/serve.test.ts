/** How the page's files are served: types, security headers, revalidation, and that the built service and the package find them. */
import { readFileSync, readdirSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { builtinPath } from '../../../src/paths.js';
import { CONTENT_SECURITY_POLICY, PAGE_ASSETS_DIR, registerStatusPage } from '../../../src/service/page/index.js';
import { ensureBuilt } from '../../helpers/cli.js';

function pageApp(register: (app: FastifyInstance) => void = registerStatusPage): FastifyInstance {
  const app = Fastify({ logger: false });
  register(app);
  return app;
}

describe('status page files', () => {
  it('serves the page and its assets with their types, a strict CSP and revalidation', async () => {
    const app = pageApp();
    const expected: Record<string, RegExp> = {
      '/': /^text\/html/,
      '/assets/status.js': /^text\/javascript/,
      '/assets/status.css': /^text\/css/,
      '/favicon.svg': /^image\/svg\+xml/,
    };
    for (const [url, type] of Object.entries(expected)) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(type);
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-cache');
      const etag = res.headers.etag as string;
      expect(etag).toMatch(/^"[\w-]+"$/);
      const again = await app.inject({ url, headers: { 'if-none-match': `"other", ${etag}` } });
      expect(again.statusCode, url).toBe(304);
      expect(again.body).toBe('');
      expect((await app.inject({ url, headers: { 'if-none-match': '"stale"' } })).statusCode).toBe(200);
      expect((await app.inject({ url, method: 'HEAD' })).statusCode).toBe(200);
    }
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|https?:|\*/);
    // Nothing else of the folder is reachable.
    for (const url of ['/assets/index.html', '/assets/status.d.ts', '/assets/../index.ts', '/assets/', '/index.html']) expect((await app.inject({ url })).statusCode, url).toBe(404);
    await app.close();
  });

  it('ships a page that loads nothing inline and nothing from elsewhere', async () => {
    const app = pageApp();
    const html = (await app.inject({ url: '/' })).body;
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // Relative links, so the page also works behind a proxy under a prefix.
    expect(html).toMatch(/src="assets\/status\.js"/);
    expect(html).toMatch(/href="assets\/status\.css"/);
    const js = (await app.inject({ url: '/assets/status.js' })).body;
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    await app.close();
  });

  it('fails at registration, not at the first request, when a file is missing', () => {
    expect(() => pageApp((app) => registerStatusPage(app, { dir: builtinPath('test/fixtures/no-such-dir') }))).toThrow(/ENOENT.*index\.html/);
  });

  it('is found by the built service (dist) and shipped by package.json', async () => {
    ensureBuilt();
    const built = (await import(builtinPath('dist/src/service/page/index.js'))) as { registerStatusPage: typeof registerStatusPage };
    const app = pageApp(built.registerStatusPage);
    expect((await app.inject({ url: '/' })).body).toMatch(/<title>Vigil<\/title>/);
    await app.close();
    const pkg = JSON.parse(readFileSync(builtinPath('package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain(PAGE_ASSETS_DIR);
    expect(readdirSync(builtinPath(PAGE_ASSETS_DIR)).sort()).toEqual(['favicon.svg', 'index.html', 'status.css', 'status.d.ts', 'status.js']);
  });
});
