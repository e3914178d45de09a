/**
 * The receiver port: one place notifications go (a webhook, Slack, Teams,
 * a mailbox). A receiver sends one notification per call and says, when it
 * fails, whether trying again can help; the outbox owns retries and limits.
 */
import type { Notification } from './alert.js';

export interface Receiver {
  readonly name: string;
  readonly type: string;
  /** Resolves once the far end accepted it. Must give up when `signal` aborts. */
  send(n: Notification, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * A failed delivery. The message names the receiver's answer (status, SMTP
 * reply, network error), never its URL, token or password.
 */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  /** The far end asked to wait this long (HTTP Retry-After). */
  readonly retryAfterMs?: number;

  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeliveryError';
    this.retryable = options.retryable;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}
