/**
 * A set of keys that forget themselves after a fixed time, with a hard cap
 * on size. Used to collapse duplicate events and to refuse replayed
 * signatures. Keys are hashed first, so a sender's megabyte-long id costs
 * the same few bytes as a short one.
 */
import { createHash } from 'node:crypto';

export class ExpiringSet {
  // Insertion order is expiry order because the time to live is fixed, so the oldest entry is always first.
  private readonly entries = new Map<string, number>();
  private evictedEarly = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** True if `key` was seen within the time to live; otherwise remembers it and returns false. */
  seenOrAdd(key: string, now: number): boolean {
    this.expire(now);
    const h = digest(key);
    const until = this.entries.get(h);
    if (until !== undefined && until > now) return true;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
      this.evictedEarly += 1;
    }
    this.entries.set(h, now + this.ttlMs);
    return false;
  }

  /** A copy with a longer time to live for new keys; the keys already here keep their expiry. */
  widened(ttlMs: number, maxEntries: number): ExpiringSet {
    const wider = new ExpiringSet(Math.max(ttlMs, this.ttlMs), maxEntries);
    for (const [k, until] of this.entries) wider.entries.set(k, until);
    return wider;
  }

  has(key: string, now: number): boolean {
    const until = this.entries.get(digest(key));
    return until !== undefined && until > now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries dropped before their time because the set was full. */
  get evicted(): number {
    return this.evictedEarly;
  }

  private expire(now: number): void {
    for (const [k, until] of this.entries) {
      if (until > now) break;
      this.entries.delete(k);
    }
  }
}

export function digest(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('base64');
}
