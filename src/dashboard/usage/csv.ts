// RFC 4180 CSV (CRLF line ends, quotes only where needed).

/** Text cells a spreadsheet would run as a formula get a leading apostrophe (seat names come from telemetry). */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: string, isText: boolean): string {
  const safe = isText && FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv(header: readonly string[], rows: readonly (readonly string[])[], textColumns: ReadonlySet<number>): string {
  const lines = [header.map((h) => csvField(h, true)).join(',')];
  for (const row of rows) lines.push(row.map((cell, i) => csvField(cell, textColumns.has(i))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
