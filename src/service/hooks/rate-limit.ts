/**
 * Token buckets, one per source address: `burst` requests at once, then
 * `perSecond` sustained. Checked before a body is read, so a flood costs
 * almost nothing. The number of buckets is capped; when full, the buckets
 * idle longest go first (a refilled bucket holds no information).
 */
export interface TakeResult {
  readonly ok: boolean;
  /** When refused: seconds until one request would be allowed. */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxKeys: number,
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError('rate limit: perSecond must be > 0 and burst >= 1');
  }

  take(key: string, now: number): TakeResult {
    let b = this.buckets.get(key);
    if (b) {
      // Re-insert so the Map's order is least-recently-used first.
      this.buckets.delete(key);
      b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * this.perSecond);
      b.at = now;
    } else {
      if (this.buckets.size >= this.maxKeys) this.evict();
      b = { tokens: this.burst, at: now };
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, retryAfterSeconds: 0 };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(): void {
    // Drop the least recently used tenth, so eviction is not paid on every new address.
    let n = Math.max(1, Math.floor(this.maxKeys / 10));
    for (const k of this.buckets.keys()) {
      this.buckets.delete(k);
      if (--n === 0) break;
    }
  }
}
