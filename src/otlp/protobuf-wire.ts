import protobuf from 'protobufjs';
import { at } from './decode-path.js';
import { DecodeError } from './types.js';

/**
 * Wire-level helpers for the hand-mapped protobuf decoders. protobufjs supplies the primitives
 * (varints, strings, skipping); we add what its generated decoders lack: wire-type checks on known
 * fields, bounds checks on nested messages, and 64-bit values as bigint.
 */
export type Reader = protobuf.Reader & { buf: Buffer };

export function createReader(bytes: Uint8Array): Reader {
  // A Buffer view (no copy) makes protobufjs pick its BufferReader, and lets ids use Buffer#toString('hex').
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return protobuf.Reader.create(buf) as Reader;
}

// protobufjs returns 64-bit varints as Long only when the `long` package is present; without it they lose precision.
if (!protobuf.util.Long) {
  throw new Error('protobufjs was loaded without Long support; 64-bit varints would lose precision');
}

const TWO_32 = 4294967296;

function joinBits(lo: number, hi: number): bigint {
  // Below 2^53 one Number → BigInt conversion is exact and cheaper than shifting.
  if (hi >= 0 && hi < 0x200000) return BigInt(hi * TWO_32 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function fixed64(r: Reader): bigint {
  const lo = r.fixed32();
  return joinBits(lo, r.fixed32());
}

export function sfixed64(r: Reader): bigint {
  const lo = r.fixed32();
  return joinBits(lo, r.sfixed32());
}

export function int64(r: Reader): bigint {
  const l = r.int64() as unknown as protobuf.Long;
  return joinBits(l.low >>> 0, l.high | 0);
}

export function uint64(r: Reader): bigint {
  const l = r.uint64() as unknown as protobuf.Long;
  return joinBits(l.low >>> 0, l.high >>> 0);
}

/** Reads a length prefix and returns the end offset of the embedded message, checked against its parent. */
export function sub(r: Reader, end: number): number {
  const len = r.uint32();
  const subEnd = r.pos + len;
  if (subEnd > end) throw new DecodeError(`length ${len} runs past the end of the enclosing message`);
  return subEnd;
}

/** Decodes one length-delimited element with `decode` and appends it, naming `field[i]` on failure. */
export function pushMessage<T>(
  r: Reader,
  end: number,
  out: T[],
  field: string,
  decode: (r: Reader, end: number) => T,
): void {
  const i = out.length;
  try {
    out.push(decode(r, sub(r, end)));
  } catch (err) {
    throw at(err, field, i);
  }
}

/** Decodes one embedded message with `decode`, naming `field` on failure. */
export function message<T>(r: Reader, end: number, field: string, decode: (r: Reader, end: number) => T): T {
  try {
    return decode(r, sub(r, end));
  } catch (err) {
    throw at(err, field);
  }
}

/** Every message decoder ends with this: a field that overran the message length means corrupt input. */
export function checkEnd(r: Reader, end: number): void {
  if (r.pos !== end) throw new DecodeError('field runs past the end of the message');
}

/** A trace id (16 bytes) or span id (8 bytes) as lowercase hex; empty stays "". */
export function id(r: Reader, end: number, size: 8 | 16, name: string): string {
  const len = r.uint32();
  if (len === 0) return '';
  if (len !== size) throw new DecodeError(`must be ${size} bytes or empty, got ${len}`, name);
  const start = r.pos;
  if (start + len > end) throw new DecodeError(`length ${len} runs past the end of the enclosing message`, name);
  r.pos = start + len;
  return r.buf.toString('hex', start, start + len);
}

/** Copies bytes out so decoded values do not pin the whole request buffer in memory. */
export function bytesCopy(r: Reader): Uint8Array {
  const view = r.bytes();
  return new Uint8Array(view);
}

/** Bitmask of a message's field numbers (all below 32): tells unknown fields from known ones with a wrong wire type. */
export function fieldMask(...fields: number[]): number {
  return fields.reduce((mask, f) => mask | (1 << f), 0);
}

/** Skips an unknown field; a known field seen with the wrong wire type is an error rather than silent garbage. */
export function skipUnknown(r: Reader, tag: number, known: number): void {
  const field = tag >>> 3;
  const wireType = tag & 7;
  if (field === 0) throw new DecodeError(`invalid tag ${tag} (field number 0)`);
  if (field < 32 && (known >>> field) & 1) {
    throw new DecodeError(`wrong wire type ${wireType} for field ${field}`);
  }
  r.skipType(wireType);
}

/** repeated fixed64, packed (wire type 2) or not (wire type 1). */
export function packedFixed64(r: Reader, end: number, packed: boolean, out: bigint[]): void {
  if (!packed) {
    out.push(fixed64(r));
    return;
  }
  const stop = sub(r, end);
  while (r.pos < stop) out.push(fixed64(r));
  checkEnd(r, stop);
}

/** repeated uint64, packed (wire type 2) or not (wire type 0). */
export function packedUint64(r: Reader, end: number, packed: boolean, out: bigint[]): void {
  if (!packed) {
    out.push(uint64(r));
    return;
  }
  const stop = sub(r, end);
  while (r.pos < stop) out.push(uint64(r));
  checkEnd(r, stop);
}

/** repeated double, packed (wire type 2) or not (wire type 1). */
export function packedDouble(r: Reader, end: number, packed: boolean, out: number[]): void {
  if (!packed) {
    out.push(r.double());
    return;
  }
  const stop = sub(r, end);
  while (r.pos < stop) out.push(r.double());
  checkEnd(r, stop);
}

// Attribute keys and most attribute values (tenant, user, session, model) repeat across the records of
// a batch. A small direct-mapped cache of short strings skips the UTF-8 decode for them and lets the
// decoded records share one string instead of holding thousands of copies.
const CACHE_SLOTS = 4096;
const CACHEABLE_BYTES = 64;
const cache: string[] = new Array<string>(CACHE_SLOTS).fill('');

/** A length-delimited UTF-8 string field. */
export function string(r: Reader): string {
  const len = r.uint32();
  const start = r.pos;
  const end = start + len;
  if (end > r.len) throw new RangeError(`string length ${len} runs past the end of the buffer`);
  r.pos = end;
  if (len === 0) return '';
  const buf = r.buf;
  if (len > CACHEABLE_BYTES) return buf.toString('utf8', start, end);
  let hash = len;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (buf[i] as number), 0x01000193);
  // FNV-1a's low bits only see the low bits of each step; fold the high half in before masking.
  const slot = (hash ^ (hash >>> 16)) & (CACHE_SLOTS - 1);
  const cached = cache[slot] as string;
  if (cached.length === len) {
    let i = 0;
    while (i < len && cached.charCodeAt(i) === buf[start + i]) i++;
    if (i === len) return cached;
  }
  const s = buf.toString('utf8', start, end);
  // Only strings with one char per byte are cached: UTF-8 never expands, so those are ASCII (or U+FFFD,
  // which never equals a byte). A char-by-byte match above thus proves the bytes decode to that string.
  if (s.length === len) cache[slot] = s;
  return s;
}
