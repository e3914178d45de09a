/**
 * One receiver's outbox: a bounded queue and one sender working through it
 * in order. Pushing never waits, so the controller (which records decisions
 * synchronously) is never held up by a receiver, and a slow or dead
 * receiver only fills its own queue. Each notification is tried up to
 * `attempts` times with exponential backoff on Vigil's clock (p-retry runs
 * the attempts; its own delay is off, the wait happens in shouldRetry as in
 * the executor). Nothing leaves the outbox silently: delivered, undeliverable
 * after its attempts, dropped because the queue overflowed, or dropped at
 * shutdown, each is counted, and each loss is logged with the alert's content.
 */
import pRetry from 'p-retry';
import type { Clock } from '../clock/clock.js';
import { formatDuration } from '../clock/duration.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { Notification } from './alert.js';
import { DeliveryError, type Receiver } from './receiver.js';

/** Anything with prom-client's `inc(labels)`: a Counter with labelNames ['receiver'] (and 'reason' for dropped). */
export interface CounterLike {
  inc(labels: { receiver: string; reason?: string }): void;
}

export interface AlertCounters {
  readonly sent?: CounterLike;
  /** Undeliverable after every attempt. */
  readonly failed?: CounterLike;
  /** Dropped unsent: reason `overflow` (queue full) or `shutdown`. */
  readonly dropped?: CounterLike;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export interface OutboxOptions {
  readonly receiver: Receiver;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly queueSize: number;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly counters?: AlertCounters;
}

export interface ReceiverStats {
  readonly name: string;
  readonly type: string;
  readonly queued: number;
  readonly sending: boolean;
  readonly sent: number;
  readonly failed: number;
  readonly dropped: number;
  readonly lastError?: string;
  readonly lastErrorAt?: number;
  /** When the notification being sent is tried again (clock time), while it waits to be. */
  readonly retryAt?: number;
}

export class Outbox {
  private readonly queue: Notification[] = [];
  private sending = false;
  private closed = false;
  private readonly halt = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private sent = 0;
  private failed = 0;
  private dropped = 0;
  private lastError?: { message: string; at: number };
  private retryAt?: number;

  constructor(private readonly o: OutboxOptions) {}

  get name(): string {
    return this.o.receiver.name;
  }

  /** Queues a notification; returns at once. */
  push(n: Notification): void {
    if (this.closed) {
      this.drop(n, 'shutdown');
      return;
    }
    if (this.queue.length >= this.o.queueSize) this.drop(this.queue.shift() as Notification, 'overflow');
    this.queue.push(n);
    if (!this.sending) void this.pump();
  }

  stats(): ReceiverStats {
    return {
      name: this.o.receiver.name,
      type: this.o.receiver.type,
      queued: this.queue.length,
      sending: this.sending,
      sent: this.sent,
      failed: this.failed,
      dropped: this.dropped,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      ...(this.retryAt !== undefined ? { retryAt: this.retryAt } : {}),
    };
  }

  /** Resolves when nothing is queued or being sent. */
  idle(): Promise<void> {
    if (!this.sending && !this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Takes no more; lets what is queued go out for up to `graceMs` (on the
   * clock), then stops the sender and counts whatever is left as dropped.
   */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    const timer = new AbortController();
    await Promise.race([this.idle(), this.o.clock.sleep(graceMs, timer.signal).catch(() => undefined)]);
    timer.abort();
    this.halt.abort(new DeliveryError('Vigil is stopping', { retryable: false }));
    await this.idle();
    for (const n of this.queue.splice(0)) this.drop(n, 'shutdown');
    await this.o.receiver.close().catch((e: unknown) => this.o.logger.warn({ receiver: this.name, err: messageOf(e) }, `alert receiver ${this.name}: close failed`));
  }

  private async pump(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length && !this.halt.signal.aborted) await this.deliver(this.queue.shift() as Notification);
    } finally {
      this.sending = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async deliver(n: Notification): Promise<void> {
    const { clock, logger, retry } = this.o;
    const name = this.name;
    let attempts = 0;
    try {
      await pRetry(
        async () => {
          attempts += 1;
          await this.attempt(n);
        },
        {
          retries: retry.attempts - 1,
          // p-retry's own delay would use real time; the backoff waits on our clock instead (see shouldRetry).
          minTimeout: 0,
          maxTimeout: 0,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            const retryable = error instanceof DeliveryError && error.retryable;
            this.lastError = { message: error.message, at: clock.now() };
            if (retryable && retriesLeft > 0 && !this.halt.signal.aborted) logger.warn({ receiver: name, alert: n.alert.key, status: n.status, attempt: attemptNumber, err: error.message }, `alert to ${name} failed (attempt ${attemptNumber} of ${retry.attempts}): ${error.message}; trying again`);
          },
          shouldRetry: async ({ error, attemptNumber }) => {
            if (!(error instanceof DeliveryError) || !error.retryable || this.halt.signal.aborted) return false;
            const backoff = Math.min(retry.maxDelayMs, retry.minDelayMs * 2 ** (attemptNumber - 1));
            const delay = Math.max(backoff, Math.min(error.retryAfterMs ?? 0, retry.maxDelayMs));
            this.retryAt = clock.now() + delay;
            try {
              await clock.sleep(delay, this.halt.signal);
            } catch {
              return false;
            } finally {
              this.retryAt = undefined;
            }
            return true;
          },
        },
      );
      this.sent += 1;
      this.count('sent', { receiver: name });
      logger.debug({ receiver: name, alert: n.alert.key, status: n.status, attempts }, `alert sent to ${name}`);
    } catch (e) {
      if (this.halt.signal.aborted) {
        this.drop(n, 'shutdown');
        return;
      }
      this.failed += 1;
      this.count('failed', { receiver: name });
      const message = messageOf(e);
      this.lastError = { message, at: clock.now() };
      logger.error({ receiver: name, attempts, err: message, ...content(n) }, `alert UNDELIVERED to ${name} after ${attempts} attempt(s): ${message}; the alert was: ${n.status} ${n.alert.severity} ${n.alert.summary}`);
    }
  }

  /** One try, bounded by the timeout on the clock; a stop aborts it. */
  private async attempt(n: Notification): Promise<void> {
    const { clock, timeoutMs } = this.o;
    const ctl = new AbortController();
    const timer = clock.setTimeout(() => ctl.abort(new DeliveryError(`no answer within ${formatDuration(timeoutMs)}`, { retryable: true })), timeoutMs);
    const onHalt = (): void => ctl.abort(this.halt.signal.reason);
    this.halt.signal.addEventListener('abort', onHalt, { once: true });
    try {
      await this.o.receiver.send(n, ctl.signal);
    } finally {
      clock.clearTimeout(timer);
      this.halt.signal.removeEventListener('abort', onHalt);
    }
  }

  /** A metrics mistake (say, a counter without the `reason` label) must not stop delivery. */
  private count(which: keyof AlertCounters, labels: { receiver: string; reason?: string }): void {
    try {
      this.o.counters?.[which]?.inc(labels);
    } catch (e) {
      this.o.logger.warn({ receiver: this.name, counter: which, err: messageOf(e) }, `alerts: cannot count ${which}`);
    }
  }

  private drop(n: Notification, reason: 'overflow' | 'shutdown'): void {
    this.dropped += 1;
    this.count('dropped', { receiver: this.name, reason });
    const why = reason === 'overflow' ? `its queue is full (${this.o.queueSize}); the oldest notification was dropped` : 'Vigil stopped before it could be sent';
    this.o.logger.error({ receiver: this.name, dropReason: reason, ...content(n) }, `alert DROPPED for ${this.name}: ${why}; the alert was: ${n.status} ${n.alert.severity} ${n.alert.summary}`);
  }
}

/** What a log line keeps of a lost notification, enough to act on it by hand. */
function content(n: Notification): Record<string, unknown> {
  const a = n.alert;
  return { alert: { key: a.key, status: n.status, kind: a.kind, severity: a.severity, cluster: a.cluster, subject: a.subject, summary: a.summary, resolution: a.resolution, firstSeen: new Date(a.firstSeen).toISOString(), at: new Date(n.at).toISOString() } };
}
