/**
 * The first detector: a host is failed after the manager reported it not
 * responding on `failAfterPolls` consecutive polls, and healthy again as soon
 * as the manager sees it connected. A host the manager reports disconnected
 * was disconnected by a person, which is not evidence of failure.
 */
import type { Evidence, FailureDetector, HealthTransition, HealthView, HostHealth, HostHealthState } from './types.js';

export interface PollCountOptions {
  readonly failAfterPolls: number;
}

interface Tracked {
  health: HostHealth;
  missed: number;
}

export class PollCountDetector implements FailureDetector {
  private readonly hosts = new Map<string, Tracked>();

  constructor(private readonly options: PollCountOptions) {
    if (!(options.failAfterPolls >= 1)) throw new RangeError('failAfterPolls must be at least 1');
  }

  current(): ReadonlyMap<string, HostHealth> {
    return new Map([...this.hosts].map(([k, v]) => [k, v.health]));
  }

  observe(evidence: Evidence): HealthView {
    const { now, snapshot } = evidence;
    const transitions: HealthTransition[] = [];
    const seen = new Set<string>();
    for (const host of snapshot.hosts) {
      seen.add(host.name);
      const tracked = this.hosts.get(host.name);
      const previous = tracked?.health.state;
      let missed = tracked?.missed ?? 0;
      let next: HostHealthState;
      let reason: string;
      if (host.state === 'notResponding') {
        missed += 1;
        if (previous === 'failed' || previous === 'fenced') {
          next = previous;
          reason = tracked?.health.reason ?? '';
        } else if (missed >= this.options.failAfterPolls) {
          next = 'failed';
          reason = `not responding on ${missed} consecutive polls`;
        } else {
          next = 'suspect';
          reason = `not responding (${missed} of ${this.options.failAfterPolls} polls)`;
        }
      } else {
        missed = 0;
        if (host.state === 'maintenance') {
          next = 'maintenance';
          reason = 'in maintenance mode';
        } else if (host.state === 'disconnected') {
          next = 'isolated';
          reason = 'disconnected in the manager';
        } else {
          next = 'healthy';
          reason = previous && previous !== 'healthy' ? 'responding again' : 'responding';
        }
      }
      const changed = previous !== next || (next === 'suspect' && tracked?.missed !== missed);
      const health: HostHealth = changed ? { host: host.name, state: next, since: previous === next ? (tracked?.health.since ?? now) : now, reason } : (tracked as Tracked).health;
      if (changed) transitions.push({ host: host.name, from: previous ?? 'unknown', to: next, at: now, reason });
      this.hosts.set(host.name, { health, missed });
    }
    for (const name of [...this.hosts.keys()]) if (!seen.has(name)) this.hosts.delete(name);
    return { hosts: this.current(), transitions };
  }
}
