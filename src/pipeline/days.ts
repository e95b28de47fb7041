/** Tenant days: calendar dates in the tenant's IANA time zone, mapped to UTC instants. */

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const MS_PER_DAY = 86_400_000;

export function isDay(s: string): boolean {
  if (!DAY_PATTERN.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Offset of `timeZone` from UTC at the instant `utcMs`, in ms (e.g. +3_600_000 for CET in winter). */
function offsetMs(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** The UTC instant (ms) at which local midnight of `day` occurs in `timeZone`. */
export function startOfDayMs(day: string, timeZone: string): number {
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  // Two passes settle the offset when midnight is near a DST change.
  let guess = midnightUtc - offsetMs(midnightUtc, timeZone);
  guess = midnightUtc - offsetMs(guess, timeZone);
  return guess;
}

/** [start of day, start of next day) in ns, in the tenant's time zone (23 or 25 hours long around DST changes). */
export function dayRangeNs(day: string, timeZone: string): { fromNs: bigint; toNs: bigint } {
  return {
    fromNs: BigInt(startOfDayMs(day, timeZone)) * 1_000_000n,
    toNs: BigInt(startOfDayMs(addDays(day, 1), timeZone)) * 1_000_000n,
  };
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Today's date in the time zone. */
export function today(timeZone: string, now = Date.now()): string {
  return new Date(now + offsetMs(now, timeZone)).toISOString().slice(0, 10);
}

/** Every day from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}
