/**
 * The clock port. Everything in Vigil that waits or reads the time goes
 * through a Clock, so that the same controller code runs in real time, in
 * accelerated time (the demo) and in simulated time (tests, scenarios, bench).
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the Unix epoch, in this clock's time. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time. */
export class SystemClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, ms));
    this.timers.set(id, timer);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.get(handle.id);
    if (timer) clearTimeout(timer);
    this.timers.delete(handle.id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}

/**
 * Real time sped up by `speed`: one real second is `speed` clock seconds.
 * The demo uses it so a minute-long failover plays in a few seconds while
 * every figure it prints stays in lab time.
 */
export class ScaledClock implements Clock {
  private readonly system = new SystemClock();
  private readonly startReal = Date.now();

  constructor(
    private readonly speed: number,
    private readonly startAt: number = Date.now(),
  ) {
    if (!(speed > 0)) throw new RangeError('speed must be positive');
  }

  now(): number {
    return this.startAt + Math.round((Date.now() - this.startReal) * this.speed);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.system.setTimeout(fn, ms / this.speed);
  }

  clearTimeout(handle: TimerHandle): void {
    this.system.clearTimeout(handle);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}

export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortError(signal));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'aborted');
}
