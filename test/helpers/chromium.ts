/**
 * Debian's Chromium driven by playwright-core, for the browser tests.
 * Playwright never downloads a browser here: it is pointed at the system one,
 * which .ci/setup-peers installs (.ci/packages.d/chromium.txt).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';

// As root in a closed network: no sandbox, and nothing that phones home (each refused connection is noise and delay).
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's chromium package (run \`bash .ci/setup-peers\`, or set VIGIL_CHROMIUM)`);
  }
  // Playwright gives each launch a new, empty profile directory of its own.
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60_000 });
}

/** Everything a page must not do: console errors, uncaught exceptions, failed requests, HTTP errors. Read it at the end. */
export function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return errors;
}
