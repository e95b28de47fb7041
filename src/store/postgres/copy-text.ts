import type { RecordBase } from '../records.js';
import type { Column } from './rows.js';

/**
 * Records as the bytes of COPY … FROM STDIN (the default text format): one line per row,
 * tab-separated, `\N` for NULL, backslash escapes. COPY is the cheapest way into
 * PostgreSQL: measured on our events (scripts/bench/copy-experiments.ts) the server spends
 * about a fifth of the CPU per row that INSERT … SELECT FROM json_to_recordset needed.
 *
 * Each row is encoded into a growing Buffer as soon as it is built: concatenating a whole
 * batch into one JavaScript string and encoding that took over twice as long (the string
 * is a rope of thousands of pieces that must be flattened first), and so did writing each
 * field on its own. A resource's or scope's document, the same object for every record
 * of its block, is escaped once per batch.
 */

const needsEscape = /[\\\n\r\t\0]/;
const escapes: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\uFFFD' };
const escapable = /[\\\n\r\t\0]/g;

/** A text value; U+0000, which PostgreSQL text cannot hold, becomes U+FFFD (lone surrogates become it in UTF-8 encoding). */
export function copyTextValue(s: string): string {
  return needsEscape.test(s) ? s.replace(escapable, (c) => escapes[c] as string) : s;
}

/** JSON text (as JSON.stringify writes it) holds no raw control characters: only its backslashes need doubling. */
const copyDoc = (json: string): string => (json.includes('\\') ? json.replaceAll('\\', '\\\\') : json);

/**
 * `ts`, the partition key: the record time truncated to the microsecond, as an ISO
 * timestamp in UTC (times are 0 … 2^63-1 ns, so years 1970 … 2262).
 */
export function tsText(timeNs: bigint): string {
  const us = timeNs / 1000n;
  const seconds = us / 1_000_000n;
  // Records of a batch mostly share their second: its ISO text is made once.
  if (seconds !== lastSecond) {
    lastSecond = seconds;
    lastPrefix = new Date(Number(seconds) * 1000).toISOString().slice(0, 20);
  }
  return `${lastPrefix}${String(Number(us % 1_000_000n)).padStart(6, '0')}Z`;
}
let lastSecond = -1n;
let lastPrefix = '';

/** Column list of the COPY statement: tenant_id, ts, then the table's own columns. */
export const copyColumns = <R>(columns: readonly Column<R>[]): string => ['tenant_id', 'ts', ...columns.map(([n]) => n)].join(', ');

const NEWLINE = 10;

/**
 * Reused by every batch (copyLines runs to its end without yielding): a buffer grown anew
 * for each batch left about twice the batch's size behind as garbage, which under load
 * piled up outside the V8 heap between collections. One that grew past 4 MiB is let go.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);
const SCRATCH_KEPT = 4 * 1024 * 1024;

/** A growing Buffer that COPY lines are written into. */
class Bytes {
  buf = scratch;
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  string(s: string): void {
    // At most 3 bytes per UTF-16 unit.
    this.reserve(s.length * 3);
    this.length += this.buf.write(s, this.length);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** The bytes written, in a Buffer of their own size. */
  take(): Buffer {
    if (this.buf.length <= SCRATCH_KEPT) scratch = this.buf;
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

/**
 * The COPY lines of `records`. Throws RangeError for a time PostgreSQL cannot hold
 * (before anything is sent: the caller fails the whole batch).
 */
export function copyLines<R extends RecordBase>(columns: readonly Column<R>[], tenantId: string, records: readonly R[]): Buffer {
  const out = new Bytes();
  // Per shared-document column: the object last escaped, and its text.
  const lastSource: unknown[] = columns.map(() => undefined);
  const lastText: string[] = columns.map(() => '');
  const tenant = copyTextValue(tenantId);
  for (const r of records) {
    let line = `${tenant}\t${tsText(r.timeNs)}`;
    for (let i = 0; i < columns.length; i++) {
      const [, kind, get, source] = columns[i] as Column<R>;
      if (source !== undefined) {
        const from = source(r);
        if (lastSource[i] !== from) {
          lastSource[i] = from;
          lastText[i] = copyDoc(get(r) as string);
        }
        line += `\t${lastText[i] as string}`;
        continue;
      }
      const v = get(r);
      if (v === null || v === undefined) line += '\t\\N';
      else if (kind === 'text') line += `\t${copyTextValue(v as string)}`;
      else if (kind === 'doc') line += `\t${copyDoc(v as string)}`;
      else if (kind === 'bool') line += v ? '\tt' : '\tf';
      // Numbers and int64 strings; String() writes NaN and ±Infinity as float8 reads them.
      else line += `\t${String(v)}`;
    }
    out.string(line);
    out.byte(NEWLINE);
  }
  return out.take();
}
