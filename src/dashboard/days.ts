// Calendar days as `YYYY-MM-DD` strings in UTC, the unit of the usage API.

const DAY_MS = 86_400_000;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

export function todayUtc(now: number = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function addDays(day: string, delta: number): string {
  return new Date(dayToMs(day) + delta * DAY_MS).toISOString().slice(0, 10);
}

export function dayToMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

export function isDay(value: string): boolean {
  return DAY_PATTERN.test(value) && !Number.isNaN(dayToMs(value)) && addDays(value, 0) === value;
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let ms = dayToMs(from), end = dayToMs(to); ms <= end; ms += DAY_MS) {
    days.push(new Date(ms).toISOString().slice(0, 10));
  }
  return days;
}

/** The last `count` days ending today (UTC), both ends included. */
export function lastDays(count: number, now: number = Date.now()): { from: string; to: string } {
  const to = todayUtc(now);
  return { from: addDays(to, -(count - 1)), to };
}
