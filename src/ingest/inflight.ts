/**
 * Bounds the request bytes the process holds at once. Past the bound a new
 * request is refused with a retryable status instead of being queued, so a
 * load spike slows clients down rather than growing memory until the process
 * dies.
 */
export class InflightBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /**
   * Reserves `bytes`; false when that would pass the limit. A lone request is always let in,
   * however big: `ownBytes` are what the caller already holds, so a request that grows (a
   * chunked body, an inflated one) is never refused because of itself, which would refuse
   * its every retry too.
   */
  tryAcquire(bytes: number, ownBytes = 0): boolean {
    if (this.used - ownBytes > 0 && this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /**
   * Adds bytes an admitted request goes on holding (its records' stored copy, until the
   * commit), without refusing: the request is already in, so what it holds counts against
   * the next ones, which are refused sooner.
   */
  charge(bytes: number): void {
    this.used += bytes;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  get inUse(): number {
    return this.used;
  }
}
