import { sleepOn, type Clock, type TimerHandle } from './clock.js';

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * Simulated time for tests, scenarios and benchmarks. Time moves only when
 * `advanceTo`/`advance` is called; timers fire in time order (ties in the
 * order they were set), and promise chains started by one timer are allowed
 * to settle before the next fires, so async controller code behaves as it
 * would in real time, only instantly and repeatably.
 */
export class FakeClock implements Clock {
  private current: number;
  private readonly timers = new Map<number, PendingTimer>();
  private nextId = 1;
  private seq = 0;

  constructor(startAt = Date.UTC(2026, 0, 1)) {
    this.current = startAt;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.current + Math.max(0, ms), seq: this.seq++, fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Number of timers waiting to fire. */
  pending(): number {
    return this.timers.size;
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  /** Fires every timer due up to and including `target`, then sets the time to `target`. */
  async advanceTo(target: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.timers.delete(next.id);
      this.current = Math.max(this.current, next.at);
      next.fn();
      await settle();
    }
    this.current = Math.max(this.current, target);
    await settle();
  }

  private nextDue(target: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers.values()) {
      if (t.at > target) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/**
 * Lets pending promise callbacks (and zero-delay real timers, which some
 * libraries use internally) run. Several rounds, because a settled promise
 * can queue work behind a macrotask.
 */
async function settle(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
