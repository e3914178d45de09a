/**
 * The generic JSON webhook. One POST per notification; the body is the
 * documented, versioned shape below (docs/alerts.md), so any system can take
 * it. Authentication: a Bearer token, or an HMAC-SHA256 signature over
 * `<timestamp>.<body>` that lets the far end reject forged and replayed
 * bodies. `X-Vigil-Delivery` is the same on every retry of one
 * notification, so a receiver can drop duplicates.
 */
import { createHmac } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Notification, Severity } from '../alert.js';
import type { WebhookReceiverConfig } from '../config.js';
import type { Receiver } from '../receiver.js';
import { postJson } from './http-post.js';

export interface WebhookPayload {
  readonly version: 1;
  readonly source: 'vigil';
  readonly status: 'firing' | 'resolved';
  readonly reason: 'new' | 'severity-changed' | 'resolved';
  /** When the change happened (ISO 8601). */
  readonly at: string;
  readonly alert: {
    readonly key: string;
    readonly kind: string;
    readonly severity: Severity;
    readonly peakSeverity: Severity;
    readonly cluster: string;
    readonly subject: string;
    readonly summary: string;
    readonly details: Readonly<Record<string, unknown>>;
    readonly firstSeen: string;
    readonly lastSeen: string;
    readonly resolvedAt: string | null;
    readonly resolution: string | null;
  };
}

export function webhookPayload(n: Notification): WebhookPayload {
  const a = n.alert;
  return {
    version: 1,
    source: 'vigil',
    status: n.status,
    reason: n.reason,
    at: iso(n.at),
    alert: {
      key: a.key,
      kind: a.kind,
      severity: a.severity,
      peakSeverity: n.peakSeverity,
      cluster: a.cluster,
      subject: a.subject,
      summary: a.summary,
      details: a.details,
      firstSeen: iso(a.firstSeen),
      lastSeen: iso(a.lastSeen),
      resolvedAt: a.resolvedAt === undefined ? null : iso(a.resolvedAt),
      resolution: a.resolution ?? null,
    },
  };
}

/** The id of one notification, stable across retries. */
export function deliveryId(n: Notification): string {
  return `${n.alert.key}@${n.at}:${n.status}`;
}

/** `sha256=<hex>` over `<timestamp>.<body>`. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookReceiver implements Receiver {
  readonly type = 'webhook';
  readonly name: string;

  constructor(
    private readonly c: WebhookReceiverConfig,
    private readonly dispatcher: Dispatcher | undefined,
    private readonly now: () => number,
  ) {
    this.name = c.name;
  }

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(webhookPayload(n));
    const headers: Record<string, string> = { ...(this.c.headers ?? {}), 'x-vigil-delivery': deliveryId(n) };
    if (this.c.bearerToken) headers.authorization = `Bearer ${this.c.bearerToken}`;
    if (this.c.hmacSecret) {
      const ts = String(Math.floor(this.now() / 1000));
      headers['x-vigil-timestamp'] = ts;
      headers['x-vigil-signature'] = signBody(this.c.hmacSecret, ts, body);
    }
    await postJson(body, headers, this.c, this.dispatcher, signal);
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
