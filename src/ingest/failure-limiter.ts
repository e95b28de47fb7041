const WINDOW_MS = 60_000;
const MAX_SOURCES = 100_000;

/**
 * Counts failed authentications per source address in one-minute windows.
 * Past the allowance a source is refused until its window ends, which makes
 * guessing tokens slow without touching clients that authenticate fine.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(private readonly perMinute: number) {}

  fail(source: string, now = Date.now()): void {
    const w = this.windows.get(source);
    if (!w || now - w.start >= WINDOW_MS) {
      if (this.windows.size >= MAX_SOURCES) this.prune(now);
      this.windows.set(source, { start: now, failures: 1 });
    } else {
      w.failures++;
    }
  }

  /** Seconds until the source may try again; 0 when it may try now. */
  blockedSeconds(source: string, now = Date.now()): number {
    const w = this.windows.get(source);
    if (!w || now - w.start >= WINDOW_MS || w.failures < this.perMinute) return 0;
    return Math.max(1, Math.ceil((w.start + WINDOW_MS - now) / 1000));
  }

  private prune(now: number): void {
    for (const [source, w] of this.windows) if (now - w.start >= WINDOW_MS) this.windows.delete(source);
    if (this.windows.size >= MAX_SOURCES) this.windows.clear();
  }
}
