// Display formatting. One locale for the whole page so numbers read the same everywhere (and in the CSV).

const LOCALE = 'en-US';

const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const usd = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: 'USD', minimumFractionDigits: 2 });
const compact = new Intl.NumberFormat(LOCALE, { notation: 'compact', maximumFractionDigits: 1 });
const fixed = (digits: number) =>
  new Intl.NumberFormat(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fixed1 = fixed(1);
const fixed2 = fixed(2);
const relative = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto' });
const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
// Day strings are dates, not instants: formatting them at UTC midnight in UTC prints that very date.
const dateOnly = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeZone: 'UTC' });

export const formatInteger = (value: number): string => integer.format(value);
export const formatUsd = (value: number): string => usd.format(value);
export const formatCompact = (value: number): string => compact.format(value);
export const formatFixed1 = (value: number): string => fixed1.format(value);
export const formatFixed2 = (value: number): string => fixed2.format(value);
export const formatDateTime = (iso: string): string => dateTime.format(new Date(iso));
export const formatDay = (day: string): string => dateOnly.format(new Date(`${day}T00:00:00Z`));

/** Rounds half away from zero to `digits` decimals, so the table and the CSV agree on one value. */
export function round(value: number, digits: number): number {
  if (!Number.isFinite(value)) return 0;
  // Shifting through the decimal exponent rounds the number as printed (1.005 → 1.01), not its binary neighbour.
  const abs = Math.abs(value);
  const text = String(abs);
  // `|| 0` turns -0 into 0, so nothing shows "-0.00".
  if (text.includes('e')) return (Math.sign(value) * Math.round(abs * 10 ** digits)) / 10 ** digits || 0;
  const shifted = Math.round(Number(`${text}e${digits}`));
  return Math.sign(value) * Number(`${shifted}e-${digits}`) || 0;
}

/** "12 seconds ago", "3 minutes ago", "yesterday"… relative to `now`. */
export function formatAgo(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return 'just now';
  if (abs < 60) return relative.format(seconds, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}

export function plural(count: number, one: string, many: string): string {
  return `${formatInteger(count)} ${count === 1 ? one : many}`;
}
