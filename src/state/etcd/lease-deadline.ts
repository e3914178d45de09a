/**
 * Until when a leader may act on its own say-so: the lease's expiry as
 * etcd can at the earliest see it. etcd renews a lease when a keepalive
 * reaches it, which is after we sent it, so a keepalive sent at t keeps the
 * lease until at least t + TTL. Counting from the send (never from the
 * answer, which arrives later) keeps this replica's deadline at or before
 * etcd's, whatever the network delays; a margin covers clock rate drift
 * and the moment between the check and the provider call. Answers come
 * back in the order keepalives were sent on the stream, so each answer
 * vouches for the oldest send not yet answered. Monotonic time only.
 */
export class LeaseDeadline {
  private readonly pending: number[] = [];
  private until: number;

  constructor(
    private readonly ttlMs: number,
    /** When the lease grant was sent: the lease lives at least TTL after it. */
    grantSentAt: number,
    private readonly marginMs = leaseMargin(ttlMs),
  ) {
    this.until = grantSentAt + ttlMs - marginMs;
  }

  /** A keepalive was sent now. */
  sent(at: number): void {
    this.pending.push(at);
  }

  /** The oldest pending keepalive was answered with a live lease. */
  answered(): void {
    const t = this.pending.shift();
    if (t !== undefined) this.until = Math.max(this.until, t + this.ttlMs - this.marginMs);
  }

  /** The keepalive stream broke: what was sent on it may never be answered. */
  streamLost(): void {
    this.pending.length = 0;
  }

  valid(now: number): boolean {
    return now < this.until;
  }

  /** How long this replica may still act, from `now` (negative once past). */
  remaining(now: number): number {
    return this.until - now;
  }
}

/** A tenth of the TTL, between 100 ms and 1 s. */
export function leaseMargin(ttlMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(ttlMs / 10)));
}
