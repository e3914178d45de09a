/**
 * What the receivers did, as counters for tests, the benchmark and the
 * service's metrics. Event types come from senders, so before one becomes
 * a key (or a Prometheus label) it is checked for shape and the number of
 * distinct types is capped: a sender cannot grow memory or label sets.
 */
import { HOOK_SOURCES, type HookMetrics, type HookSource, type HookStats } from './types.js';

const MAX_TYPES = 200;
const TYPE_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,119}$/;

export class Counters {
  private readonly requests = new Map<HookSource, Map<number, number>>(HOOK_SOURCES.map((s) => [s, new Map()]));
  private readonly ignoredByType = new Map<string, number>();
  hints = 0;
  coalesced = 0;
  duplicates = 0;
  rateLimited = 0;
  unresolved = 0;
  hintErrors = 0;

  constructor(private readonly metrics: HookMetrics = {}) {}

  request(source: HookSource, status: number): void {
    const m = this.requests.get(source);
    if (m) m.set(status, (m.get(status) ?? 0) + 1);
    safely(() => this.metrics.request?.(source, status));
  }

  ignored(source: HookSource, type: string): void {
    const t = this.typeLabel(type);
    this.ignoredByType.set(t, (this.ignoredByType.get(t) ?? 0) + 1);
    safely(() => this.metrics.ignored?.(source, t));
  }

  duplicate(source: HookSource): void {
    this.duplicates += 1;
    safely(() => this.metrics.duplicate?.(source));
  }

  limited(source: HookSource): void {
    this.rateLimited += 1;
    safely(() => this.metrics.rateLimited?.(source));
  }

  hint(source: HookSource, cluster: string): void {
    this.hints += 1;
    safely(() => this.metrics.hint?.(source, cluster));
  }

  coalesce(source: HookSource, cluster: string): void {
    this.coalesced += 1;
    safely(() => this.metrics.coalesced?.(source, cluster));
  }

  unresolvedEvent(source: HookSource): void {
    this.unresolved += 1;
    safely(() => this.metrics.unresolved?.(source));
  }

  snapshot(): HookStats {
    const requests = Object.fromEntries(HOOK_SOURCES.map((s) => [s, Object.fromEntries([...(this.requests.get(s) ?? new Map<number, number>())].map(([k, v]) => [String(k), v]))])) as Record<
      HookSource,
      Record<string, number>
    >;
    return {
      requests,
      hints: this.hints,
      coalesced: this.coalesced,
      duplicates: this.duplicates,
      rateLimited: this.rateLimited,
      unresolved: this.unresolved,
      ignored: Object.fromEntries(this.ignoredByType),
      hintErrors: this.hintErrors,
    };
  }

  private typeLabel(type: string): string {
    if (!TYPE_SHAPE.test(type)) return 'other';
    if (this.ignoredByType.has(type) || this.ignoredByType.size < MAX_TYPES) return type;
    return 'other';
  }
}

// A metrics callback that throws must not turn a 202 into a 500.
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* the service's metrics are its own business */
  }
}
