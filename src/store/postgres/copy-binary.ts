import type { RecordBase } from '../records.js';
import type { Column } from './rows.js';

/**
 * Records as the data of COPY … FROM STDIN (FORMAT binary): per row a field count, then
 * each field as its length and its bytes in the column type's binary form (length -1 for
 * NULL). Measured on our events against the text format (one-off comparison, same rows,
 * 500 per COPY): PostgreSQL spent 13–14 µs per row instead of 17.5–20, since it no longer
 * scans lines for escapes, splits them on tabs or parses numbers and timestamps; building
 * the rows here costs what building text lines did (4.5–5.9 µs per record against 3.8–7.2
 * in alternating runs of scripts/bench/ingest-path.ts).
 *
 * The column types must match exactly (text, bigint, integer, double precision, boolean,
 * timestamptz): PostgreSQL reads each field with the binary input of its column's type.
 *
 * Each batch's rows are one Buffer without the header and trailer, so the rows of several
 * batches can follow one another in a single COPY (write-batch.ts adds both).
 */

/** Signature, flags (no OIDs) and header-extension length. */
export const COPY_BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** A field count of -1 ends the data. */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** timestamptz counts microseconds from 2000-01-01T00:00:00Z. */
const PG_EPOCH_US = 946_684_800_000_000n;
const TWO_32 = 4_294_967_296;

/** UTF-8 text's value; U+0000, which PostgreSQL text cannot hold, becomes U+FFFD (lone surrogates become it in UTF-8 encoding). */
const textValue = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);

/** Column list of the COPY statement: tenant_id, ts, then the table's own columns. */
export const copyColumns = <R>(columns: readonly Column<R>[]): string => ['tenant_id', 'ts', ...columns.map(([n]) => n)].join(', ');

/**
 * Reused by every batch (copyRows runs to its end without yielding): a buffer grown anew
 * for each batch left about twice the batch's size behind as garbage, which under load
 * piled up outside the V8 heap between collections. One that grew past 4 MiB is let go.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);
const SCRATCH_KEPT = 4 * 1024 * 1024;

/**
 * A growing Buffer that rows are written into. Numbers go through a DataView, which the
 * compiler inlines; Buffer's own write methods and copy() are calls into Node's library
 * code that cost more per field than the few bytes they write.
 */
class Rows {
  buf = scratch;
  view = new DataView(scratch.buffer, scratch.byteOffset, scratch.length);
  length = 0;

  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }

  int16(v: number): void {
    this.reserve(2);
    this.view.setInt16(this.length, v);
    this.length += 2;
  }

  null(): void {
    this.reserve(4);
    this.view.setInt32(this.length, -1);
    this.length += 4;
  }

  text(s: string): void {
    this.reserve(4 + s.length * 3);
    this.utf8(textValue(s));
  }

  /** JSON text (json-text.ts): it holds no U+0000. */
  doc(json: string): void {
    this.reserve(4 + json.length * 3);
    this.utf8(json);
  }

  private utf8(s: string): void {
    const bytes = this.buf.write(s, this.length + 4);
    this.view.setInt32(this.length, bytes);
    this.length += 4 + bytes;
  }

  /** Bytes already encoded (a shared document). */
  bytes(b: Uint8Array): void {
    this.reserve(4 + b.length);
    this.view.setInt32(this.length, b.length);
    this.buf.set(b, this.length + 4);
    this.length += 4 + b.length;
  }

  int8(v: bigint | number): void {
    this.reserve(12);
    const { view } = this;
    view.setInt32(this.length, 8);
    if (typeof v === 'bigint') view.setBigInt64(this.length + 4, v);
    else {
      // Safe integers (flags): two 32-bit halves, without making a BigInt.
      view.setInt32(this.length + 4, Math.floor(v / TWO_32));
      view.setUint32(this.length + 8, v >>> 0);
    }
    this.length += 12;
  }

  int4(v: number): void {
    if (!Number.isInteger(v) || v < -2_147_483_648 || v > 2_147_483_647) throw new RangeError(`${v} is not a 32-bit integer`);
    this.reserve(8);
    this.view.setInt32(this.length, 4);
    this.view.setInt32(this.length + 4, v);
    this.length += 8;
  }

  float8(v: number): void {
    this.reserve(12);
    this.view.setInt32(this.length, 8);
    this.view.setFloat64(this.length + 4, v);
    this.length += 12;
  }

  bool(v: boolean): void {
    this.reserve(5);
    this.view.setInt32(this.length, 1);
    this.buf[this.length + 4] = v ? 1 : 0;
    this.length += 5;
  }

  /** The bytes written, in a Buffer of their own size. */
  take(): Buffer {
    if (this.buf.length <= SCRATCH_KEPT) scratch = this.buf;
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

/**
 * The binary COPY rows of `records`, without header and trailer. Throws RangeError for a
 * value its column cannot hold (before anything is sent: the caller fails the whole batch).
 */
export function copyRows<R extends RecordBase>(columns: readonly Column<R>[], tenantId: string, records: readonly R[]): Buffer {
  const out = new Rows();
  // Per shared-document column: the object last encoded, and its bytes.
  const lastSource: unknown[] = columns.map(() => undefined);
  const lastBytes: (Buffer | undefined)[] = columns.map(() => undefined);
  const fields = columns.length + 2;
  const tenant = Buffer.from(textValue(tenantId));
  for (const r of records) {
    out.int16(fields);
    out.bytes(tenant);
    // `ts`, the partition key: the record time truncated to the microsecond.
    out.int8(r.timeNs / 1000n - PG_EPOCH_US);
    for (let i = 0; i < columns.length; i++) {
      const [, kind, get, source] = columns[i] as Column<R>;
      if (source !== undefined) {
        const from = source(r);
        if (lastSource[i] !== from) {
          lastSource[i] = from;
          lastBytes[i] = Buffer.from(get(r) as string);
        }
        out.bytes(lastBytes[i] as Buffer);
        continue;
      }
      const v = get(r);
      if (v === null || v === undefined) out.null();
      else if (kind === 'text') out.text(v as string);
      else if (kind === 'doc') out.doc(v as string);
      else if (kind === 'int8') out.int8(v as bigint | number);
      else if (kind === 'int4') out.int4(v as number);
      else if (kind === 'float8') out.float8(v as number);
      else out.bool(v as boolean);
    }
  }
  return out.take();
}
