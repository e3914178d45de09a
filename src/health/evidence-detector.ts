/**
 * Failure detection on evidence: a host is failed only when the manager
 * and the controller's own probe agree it is down, on `failAfterPolls`
 * consecutive observations spanning at least `minDownMs` (an alarm hint for
 * the host shortens that span to `hintMinDownMs`, never the need for both
 * signals). Where no probe can run, the manager's word over the same window
 * is the evidence.
 *
 * Reading of one observation:
 * | manager   | probe    | reading                                                   |
 * |-----------|----------|-----------------------------------------------------------|
 * | up        | answers  | up                                                        |
 * | up        | silent   | isolated from the controller: warn, no action             |
 * | down      | answers  | alive, lost by the manager: never failed (a restart would run its VMs twice) |
 * | down      | silent   | down                                                      |
 * | down      | no probe | down (manager only)                                       |
 *
 * A failed or fenced host that answers again is `recovering` for
 * `recoverAfterPolls` polls before it is healthy. A host that went down and
 * came back `flapping.transitions` times within `flapping.windowMs` is
 * quarantined from placement for `flapping.quarantineMs`.
 */
import type { Host } from '../model/inventory.js';
import type { Evidence, FailureDetector, HealthTransition, HealthView, HostHealth, HostHealthState } from './types.js';

export interface EvidenceDetectorOptions {
  readonly failAfterPolls: number;
  readonly minDownMs: number;
  readonly hintMinDownMs: number;
  /** A hint counts for this long after it arrived. */
  readonly hintWindowMs: number;
  readonly recoverAfterPolls: number;
  readonly flapping: { readonly transitions: number; readonly windowMs: number; readonly quarantineMs: number };
}

export const DEFAULT_DETECTION: EvidenceDetectorOptions = {
  failAfterPolls: 2,
  minDownMs: 10_000,
  hintMinDownMs: 2_000,
  hintWindowMs: 300_000,
  recoverAfterPolls: 2,
  flapping: { transitions: 3, windowMs: 600_000, quarantineMs: 1_800_000 },
};

type Reading = 'up' | 'down' | 'isolated' | 'lost-by-manager' | 'maintenance' | 'disconnected';

interface Tracked {
  health: HostHealth;
  /** First and count of the current run of `down` readings. */
  downSince?: number;
  downCount: number;
  upCount: number;
  /** Times the host went down (suspect from healthy) lately, for flapping. */
  downEvents: number[];
  quarantinedUntil?: number;
}

export class EvidenceDetector implements FailureDetector {
  private readonly hosts = new Map<string, Tracked>();

  constructor(private readonly o: EvidenceDetectorOptions = DEFAULT_DETECTION) {
    if (!(o.failAfterPolls >= 1)) throw new RangeError('failAfterPolls must be at least 1');
  }

  current(): ReadonlyMap<string, HostHealth> {
    return new Map([...this.hosts].map(([k, v]) => [k, v.health]));
  }

  markFenced(host: string, at: number, reason: string): HealthTransition | undefined {
    const t = this.hosts.get(host);
    if (!t || t.health.state === 'fenced') return undefined;
    const from = t.health.state;
    t.health = { host, state: 'fenced', since: at, reason };
    return { host, from, to: 'fenced', at, reason };
  }

  observe(e: Evidence): HealthView {
    const transitions: HealthTransition[] = [];
    const seen = new Set<string>();
    const hinted = new Set((e.hints ?? []).filter((h) => e.now - h.at <= this.o.hintWindowMs).map((h) => h.host));
    for (const host of e.snapshot.hosts) {
      seen.add(host.name);
      const t = this.hosts.get(host.name) ?? { health: { host: host.name, state: 'healthy', since: e.now, reason: 'first seen' }, downCount: 0, upCount: 0, downEvents: [] };
      const previous = this.hosts.has(host.name) ? t.health.state : 'unknown';
      const next = this.step(t, host, read(host, e.probes?.get(host.name)), e.now, hinted.has(host.name), e.probes?.has(host.name) ?? false);
      if (next.state !== t.health.state || (next.state === 'suspect' && next.reason !== t.health.reason)) {
        transitions.push({ host: host.name, from: previous, to: next.state, at: e.now, reason: next.reason });
        t.health = { host: host.name, state: next.state, since: next.state === t.health.state ? t.health.since : e.now, reason: next.reason };
      } else if (previous === 'unknown') {
        transitions.push({ host: host.name, from: 'unknown', to: next.state, at: e.now, reason: next.reason });
        t.health = { host: host.name, state: next.state, since: e.now, reason: next.reason };
      }
      this.hosts.set(host.name, t);
    }
    for (const name of [...this.hosts.keys()]) if (!seen.has(name)) this.hosts.delete(name);
    return { hosts: this.current(), transitions };
  }

  private step(t: Tracked, host: Host, reading: Reading, now: number, hinted: boolean, probed: boolean): { state: HostHealthState; reason: string } {
    const state = t.health.state;
    if (reading !== 'down') {
      t.downSince = undefined;
      t.downCount = 0;
    }
    switch (reading) {
      case 'maintenance':
        t.upCount = 0;
        return { state: 'maintenance', reason: 'in maintenance mode' };
      case 'disconnected':
        // A person disconnected it in the manager: not a failure, but not usable.
        return { state: 'isolated', reason: 'disconnected in the manager' };
      case 'isolated':
        return { state: 'isolated', reason: "the manager sees it, but the controller's probe gets no answer" };
      case 'lost-by-manager':
        if (state === 'failed' || state === 'fenced') return this.recover(t, now, 'the probe answers again');
        return { state: 'suspect', reason: "the manager lost it, but the controller's probe answers: it is alive, so its VMs are not restarted" };
      case 'up':
        if (state === 'failed' || state === 'fenced' || state === 'recovering') return this.recover(t, now, 'responding again');
        if (t.quarantinedUntil !== undefined && now < t.quarantinedUntil) return { state: 'quarantined', reason: `flapping: ${t.downEvents.length} failures within ${Math.round(this.o.flapping.windowMs / 60_000)}m; kept out of placement` };
        t.quarantinedUntil = undefined;
        return { state: 'healthy', reason: state === 'healthy' ? t.health.reason : 'responding' };
      case 'down': {
        if (state === 'failed' || state === 'fenced') return { state, reason: t.health.reason };
        t.upCount = 0;
        if (t.downCount === 0) {
          t.downSince = now;
          if (state !== 'suspect') {
            t.downEvents = [...t.downEvents.filter((x) => now - x <= this.o.flapping.windowMs), now];
            if (t.downEvents.length >= this.o.flapping.transitions) t.quarantinedUntil = now + this.o.flapping.quarantineMs;
          }
        }
        t.downCount += 1;
        const span = now - (t.downSince ?? now);
        const needed = hinted ? this.o.hintMinDownMs : this.o.minDownMs;
        const signals = probed ? 'the manager reports it not responding and the probe gets no answer' : 'the manager reports it not responding (no probe)';
        if (t.downCount >= this.o.failAfterPolls && span >= needed) {
          return { state: 'failed', reason: `${signals} on ${t.downCount} consecutive polls over ${Math.round(span / 100) / 10}s${hinted ? ' (an alarm also reported it)' : ''}` };
        }
        if (t.downCount >= this.o.failAfterPolls) {
          return { state: 'suspect', reason: `${signals} (${t.downCount} polls over ${Math.round(span / 100) / 10}s of the ${Math.round(needed / 100) / 10}s needed${hinted ? ', alarm received' : ''})` };
        }
        return { state: 'suspect', reason: `${signals} (${t.downCount} of ${this.o.failAfterPolls} polls${hinted ? ', alarm received' : ''})` };
      }
    }
  }

  private recover(t: Tracked, now: number, why: string): { state: HostHealthState; reason: string } {
    t.upCount += 1;
    if (t.upCount >= this.o.recoverAfterPolls) {
      t.upCount = 0;
      if (t.quarantinedUntil !== undefined && now < t.quarantinedUntil) return { state: 'quarantined', reason: `flapping: ${t.downEvents.length} failures within ${Math.round(this.o.flapping.windowMs / 60_000)}m; kept out of placement` };
      return { state: 'healthy', reason: `${why} on ${this.o.recoverAfterPolls} polls` };
    }
    return { state: 'recovering', reason: `${why} (${t.upCount} of ${this.o.recoverAfterPolls} polls before it is trusted)` };
  }
}

function read(host: Host, probe: boolean | undefined): Reading {
  if (host.state === 'notResponding') return probe === true ? 'lost-by-manager' : 'down';
  if (host.state === 'maintenance') return 'maintenance';
  if (host.state === 'disconnected') return 'disconnected';
  return probe === false ? 'isolated' : 'up';
}
