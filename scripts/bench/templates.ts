import { encodeRequestProtobuf } from '../../src/otlp/encode-request.js';
import type { Signal } from '../../src/otlp/types.js';
import { logsRequestJson, metricsRequestJson } from './otlp-json.js';
import type { Rng } from './rng.js';
import { sessionPoints } from './session-metrics.js';
import { type Seat, eventAttrs, resourceAttrs, simulateSession, standardAttrs } from './session-sim.js';

/**
 * Pre-encoded requests whose seat, session and times are patched in place for each send,
 * so every record sent is distinct (ids are content hashes: a repeat would be deduplicated
 * and the store count would not match the acks) while the generator does no encoding in
 * the timed phase. Placeholders have the length of what replaces them, so the same byte
 * offsets work in protobuf (raw strings, fixed64 times) and in JSON (decimal time strings).
 */

export type Encoding = 'protobuf' | 'json';

const SEAT_MARK = '#SEAT#';
export const SEAT_DIGITS = SEAT_MARK.length;
const SESSION_MARK = 'ssssssss-ssss-4sss-8sss-ssssssssssss';
/** Time sentinels: 19 decimal digits like real nanosecond times, so JSON offsets keep their width. */
const TIME_SENTINEL = 1_111_111_111_000_000_000n;
const START_SENTINEL = 1_222_222_222_000_000_000n;

interface TimeSlot {
  offset: number;
  /** Record (or point) index within the request. */
  index: number;
  start: boolean;
}

export interface Template {
  signal: Signal;
  encoding: Encoding;
  bytes: Buffer;
  records: number;
  seatOffsets: number[];
  sessionOffsets: number[];
  times: TimeSlot[];
}

const placeholderSeat: Seat = {
  email: `dev${SEAT_MARK}@bench.example`,
  userId: `86660ac2d38f11efd3fb97e7af15991992397b5ad257aa40de702bda24${SEAT_MARK}`,
  accountUuid: `5f0c1c4e-2b7a-4d1e-9c3b-000000${SEAT_MARK}`,
  accountId: `user_01BWBeN28bench${SEAT_MARK}`,
  organizationId: '2a1f0d7e-6f52-4c1a-8b8e-5d3c9e7f1a20',
};

function findAll(haystack: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}

function sentinelBytes(value: bigint, encoding: Encoding): Buffer {
  if (encoding === 'json') return Buffer.from(`"${value}"`, 'latin1');
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return b;
}

function locate(signal: Signal, encoding: Encoding, json: string, records: number): Template {
  const bytes = encoding === 'json' ? Buffer.from(json) : encodeRequestProtobuf(signal, json);
  const times: TimeSlot[] = [];
  const skip = encoding === 'json' ? 1 : 0; // past the opening quote
  for (let i = 0; i < records; i++) {
    for (const o of findAll(bytes, sentinelBytes(TIME_SENTINEL + BigInt(i), encoding))) times.push({ offset: o + skip, index: i, start: false });
    for (const o of findAll(bytes, sentinelBytes(START_SENTINEL + BigInt(i), encoding))) times.push({ offset: o + skip, index: i, start: true });
  }
  const t: Template = {
    signal, encoding, bytes, records, times,
    seatOffsets: findAll(bytes, Buffer.from(SEAT_MARK)),
    sessionOffsets: findAll(bytes, Buffer.from(SESSION_MARK)),
  };
  // Logs: time + observed time per record; points: time + start time.
  if (times.length !== 2 * records || t.sessionOffsets.length !== records || t.seatOffsets.length !== 4 * records) {
    throw new Error(`template placeholders not found as expected (${signal}/${encoding}: ${times.length} times, ` +
      `${t.sessionOffsets.length} sessions, ${t.seatOffsets.length} seat marks for ${records} records)`);
  }
  return t;
}

/** A log request of `size` consecutive events of one simulated session. */
export function logTemplates(rng: Rng, tenantId: string, size: number): Record<Encoding, Template> {
  const standard = standardAttrs(tenantId, placeholderSeat, SESSION_MARK);
  const events = simulateSession(rng, size);
  const json = logsRequestJson(resourceAttrs(tenantId), events.map((e, i) => ({
    timeUnixNano: String(TIME_SENTINEL + BigInt(i)),
    name: e.name,
    attrs: eventAttrs(standard, e, i, Date.now() + e.offsetMs),
  })));
  return { protobuf: locate('logs', 'protobuf', json, size), json: locate('logs', 'json', json, size) };
}

/** One metric export (the busiest interval of a simulated session): the eight counters as delta sums. */
export function metricTemplates(rng: Rng, tenantId: string): Record<Encoding, Template> {
  const standard = standardAttrs(tenantId, placeholderSeat, SESSION_MARK);
  const events = simulateSession(rng, 120);
  const { exports } = sessionPoints(rng, events, 60_000, Number.MAX_SAFE_INTEGER);
  const busiest = exports.reduce((a, b) => (b.length > a.length ? b : a), [] as typeof exports[number]);
  const json = metricsRequestJson(resourceAttrs(tenantId), busiest.map((point, i) => ({
    point,
    startTimeUnixNano: String(START_SENTINEL + BigInt(i)),
    timeUnixNano: String(TIME_SENTINEL + BigInt(i)),
    attrs: { ...standard, ...point.attrs },
  })));
  return { protobuf: locate('metrics', 'protobuf', json, busiest.length), json: locate('metrics', 'json', json, busiest.length) };
}

export interface Patch {
  /** SEAT_DIGITS ASCII digits. */
  seat: Buffer;
  /** 36 ASCII characters. */
  session: Buffer;
  /** Time of record 0; record i gets firstNs + i * stepNs. */
  firstNs: bigint;
  stepNs: bigint;
  /** Start time = time - intervalNs (delta points). */
  intervalNs: bigint;
}

/** A fresh copy of the template with the placeholders written. */
export function materialize(t: Template, p: Patch): Buffer {
  const out = Buffer.allocUnsafe(t.bytes.length);
  t.bytes.copy(out);
  for (const o of t.seatOffsets) p.seat.copy(out, o);
  for (const o of t.sessionOffsets) p.session.copy(out, o);
  for (const s of t.times) {
    const v = p.firstNs + BigInt(s.index) * p.stepNs - (s.start ? p.intervalNs : 0n);
    if (t.encoding === 'protobuf') out.writeBigUInt64LE(v, s.offset);
    else out.write(v.toString(), s.offset, 'latin1');
  }
  return out;
}
