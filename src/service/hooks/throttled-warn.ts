/**
 * Warnings about what senders send (unknown hosts, unknown clusters) go to
 * the log at most once a minute per distinct message, with the count of
 * those held back, so a misconfigured sender cannot flood the log.
 */
import type { Logger } from '../../log.js';

const MAX_KEYS = 1_000;

export class ThrottledWarn {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly everyMs = 60_000,
  ) {}

  warn(message: string, fields: Record<string, unknown> = {}): void {
    const now = this.now();
    const seen = this.last.get(message);
    if (seen && now - seen.at < this.everyMs) {
      seen.held += 1;
      return;
    }
    if (!seen && this.last.size >= MAX_KEYS) this.last.clear();
    this.logger.warn({ ...fields, ...(seen?.held ? { suppressed: seen.held } : {}) }, message);
    this.last.set(message, { at: now, held: 0 });
  }
}
