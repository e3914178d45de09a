/** Test peers and helpers for the alert tests: a recording HTTP server, a log capture, notifications. */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createLogger, type Logger } from '../../src/log.js';
import type { Alert, Notification } from '../../src/alerts/alert.js';
import { tempDir } from '../helpers/tmp.js';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  json(): ReturnType<typeof JSON.parse>;
}

/** What the server answers to the n-th request (from 0): a status and body, or 'hang' (never answers). */
export type Behaviour = (n: number, req: Received) => { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface RecordingServer {
  readonly url: string;
  readonly received: Received[];
  behaviour: Behaviour;
  close(): Promise<void>;
}

/** A real HTTP(S) server on an ephemeral loopback port that records every request. */
export async function recordingServer(behaviour: Behaviour = () => ({ status: 200, body: 'ok' }), tls?: { key: string; cert: string }): Promise<RecordingServer> {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const state = { behaviour };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json: () => JSON.parse(body) };
      const n = received.length;
      received.push(r);
      const answer = state.behaviour(n, r);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...(answer.headers ?? {}) });
      res.end(answer.body ?? '');
    });
  };
  const server: Server = tls ? createHttps({ key: tls.key, cert: tls.cert }, handler) : createHttp(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const s: RecordingServer = {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    received,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: Behaviour) {
      state.behaviour = b;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  afterAll(() => s.close().catch(() => undefined));
  return s;
}

export interface LogCapture {
  readonly logger: Logger;
  readonly lines: () => ReturnType<typeof JSON.parse>[];
  readonly text: () => string;
}

/** A real pino logger (with Vigil's redaction) writing JSON lines to memory. */
export function captureLogs(level = 'debug'): LogCapture {
  const chunks: string[] = [];
  const logger = createLogger({ level, destination: { write: (s: string) => void chunks.push(s) } });
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

/** Polls `check` (advancing nothing) until it holds or the real-time deadline passes. */
export async function waitFor(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const T0 = Date.UTC(2026, 0, 1);

export function alert(over: Partial<Alert> = {}): Alert {
  return {
    key: 'host-failed/lab/esx-03',
    kind: 'host-failed',
    severity: 'critical',
    cluster: 'lab',
    subject: 'esx-03',
    summary: 'Host esx-03 in cluster lab failed (not responding on 3 consecutive polls). Vigil restarts its VMs elsewhere once it is known to be down.',
    details: { host: 'esx-03', reason: 'not responding on 3 consecutive polls' },
    firstSeen: T0,
    lastSeen: T0,
    ...over,
  };
}

export function firing(over: Partial<Alert> = {}): Notification {
  const a = alert(over);
  return { status: 'firing', reason: 'new', alert: a, peakSeverity: a.severity, at: a.lastSeen };
}

export function resolved(over: Partial<Alert> = {}, at = T0 + 60_000, resolution = 'esx-03 responds again'): Notification {
  const a = alert({ lastSeen: at, resolvedAt: at, resolution, ...over });
  return { status: 'resolved', reason: 'resolved', alert: a, peakSeverity: 'critical', at };
}

export interface TestCert {
  readonly keyFile: string;
  readonly certFile: string;
  readonly key: string;
  readonly cert: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export function selfSigned(name: string, dir = tempDir()): TestCert {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`the TLS tests need the openssl command (Debian package openssl): ${(e as Error).message}`, { cause: e });
  }
  return { keyFile, certFile, key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}
