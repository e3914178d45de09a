/**
 * The mass-failure guard: when more hosts of a cluster go down within a
 * window than its limit allows, the likelier truth is that the controller
 * lost its view (a network partition, a manager outage), not that the hosts
 * failed. Automation for that cluster freezes and a person decides.
 *
 * Counted: hosts that became suspect, failed or fenced within the window
 * and are still not healthy. After an unfreeze, only failures that start
 * later count, so the same event does not freeze the cluster again.
 */
import type { HealthTransition, HostHealth } from './types.js';

export interface GuardOptions {
  /** A number of hosts, or a share of the cluster ("40%"; at least 2 hosts). */
  readonly maxFailures: number | string;
  readonly windowMs: number;
}

export const DEFAULT_GUARD: GuardOptions = { maxFailures: '40%', windowMs: 300_000 };

export function guardLimit(o: GuardOptions, hosts: number): number {
  if (typeof o.maxFailures === 'number') return o.maxFailures;
  const pct = Number(o.maxFailures.replace('%', ''));
  return Math.max(2, Math.floor((pct / 100) * hosts));
}

const DOWN = new Set(['suspect', 'failed', 'fenced']);

export class MassFailureGuard {
  /** When each host last went down. */
  private readonly downAt = new Map<string, number>();
  private acknowledgedAt = -Infinity;

  constructor(private readonly o: GuardOptions) {}

  /** Forget failures so far: a person looked (unfreeze). */
  acknowledge(now: number): void {
    this.acknowledgedAt = now;
  }

  /** Returns the hosts counted and the limit; `trip` when the limit is exceeded. */
  observe(transitions: readonly HealthTransition[], health: ReadonlyMap<string, HostHealth>, now: number): { trip: boolean; hosts: string[]; limit: number } {
    for (const t of transitions) {
      if (DOWN.has(t.to) && !DOWN.has(t.from)) this.downAt.set(t.host, t.at);
    }
    const hosts = [...this.downAt]
      .filter(([h, at]) => at > this.acknowledgedAt && now - at <= this.o.windowMs && DOWN.has(health.get(h)?.state ?? ''))
      .map(([h]) => h)
      .sort();
    for (const [h] of this.downAt) if (!DOWN.has(health.get(h)?.state ?? '')) this.downAt.delete(h);
    const limit = guardLimit(this.o, health.size);
    return { trip: hosts.length > limit, hosts, limit };
  }
}
