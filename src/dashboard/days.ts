// Calendar days as `YYYY-MM-DD` strings, the unit of the usage API. A day is the tenant's: it begins at
// midnight in the tenant's time zone (whoami's `timezone`), which is how the pipeline rolls days up.
// Day arithmetic runs on the date alone (placed at UTC midnight), so it never shifts with the viewer's zone.

const DAY_MS = 86_400_000;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Today's date in `timeZone` (an IANA name such as "Europe/Berlin"). */
export function todayIn(timeZone: string, now: number = Date.now()): string {
  const parts = dateParts(timeZone).formatToParts(new Date(now));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
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

/** The last `count` days ending today in `timeZone`, both ends included. */
export function lastDays(count: number, timeZone: string, now: number = Date.now()): { from: string; to: string } {
  const to = todayIn(timeZone, now);
  return { from: addDays(to, -(count - 1)), to };
}

const formats = new Map<string, Intl.DateTimeFormat>();

// One formatter per zone: building an Intl.DateTimeFormat is the slow part. An unknown zone falls back to UTC
// rather than throwing, so a tenant with a zone this browser lacks still gets a page.
function dateParts(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    const options = { year: 'numeric', month: '2-digit', day: '2-digit' } as const;
    try {
      format = new Intl.DateTimeFormat('en-US', { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' });
    }
    formats.set(timeZone, format);
  }
  return format;
}
