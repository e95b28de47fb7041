import { LosslessNumber, parse as parseLossless } from 'lossless-json';
import { DecodeError } from './types.js';

/**
 * Scalar readers for OTLP/JSON. Each takes the raw JSON value (undefined/null meaning "absent", hence the
 * proto3 default) and the field name to report on failure.
 */
export type Json = Record<string, unknown>;

// An unquoted number JSON.parse could round: 16+ integer digits (2^53 has 16) or an exponent.
const RISKY_NUMBER = /([:,[]\s*)(-?(?:\d{16,}(?:\.\d+)?(?:[eE][+-]?\d+)?|\d+(?:\.\d+)?[eE][+-]?\d+))(?=\s*[,}\]])/g;
const RISKY_TOKEN = /\d{16}|[eE]/;

/**
 * JSON.parse, without rounding 64-bit integers sent as bare numbers. Such numbers are quoted first
 * (every numeric field also accepts strings). A match inside a string value cannot be told apart by a
 * regex, but quoting there always yields invalid JSON (a string directly followed by a number), so
 * that rare case falls back to lossless-json, which is exact but several times slower.
 */
export function parseJson(text: string): unknown {
  const quoted = text.replace(RISKY_NUMBER, '$1"$2"');
  if (quoted === text) return JSON.parse(text);
  try {
    return JSON.parse(quoted);
  } catch {
    return parseLossless(text, null, {
      parseNumber: (token) => (RISKY_TOKEN.test(token) ? new LosslessNumber(token) : Number(token)),
      onDuplicateKey: ({ newValue }) => newValue, // as JSON.parse does
    });
  }
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, field: string): Json | undefined {
  if (v === undefined || v === null) return undefined;
  if (isObject(v)) return v;
  throw new DecodeError(`expected an object, got ${describe(v)}`, field);
}

export function arr(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  throw new DecodeError(`expected an array, got ${describe(v)}`, field);
}

export function str(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  throw new DecodeError(`expected a string, got ${describe(v)}`, field);
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === undefined || v === null) return false;
  throw new DecodeError(`expected a boolean, got ${describe(v)}`, field);
}

export function double(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (v === undefined || v === null) return 0;
  if (v instanceof LosslessNumber) return Number(v.value);
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (NUMBER.test(v)) return Number(v);
  }
  throw new DecodeError(`expected a number, got ${describe(v)}`, field);
}

/** A double with explicit presence (proto3 `optional`, oneof members): absent stays undefined. */
export function optionalDouble(v: unknown, field: string): number | undefined {
  return v === undefined || v === null ? undefined : double(v, field);
}

const U32_MAX = 0xffffffff;
const I32_MIN = -0x80000000;
const I32_MAX = 0x7fffffff;

export function uint32(v: unknown, field: string): number {
  return int32Range(v, field, 0, U32_MAX);
}

export function int32(v: unknown, field: string): number {
  return int32Range(v, field, I32_MIN, I32_MAX);
}

function int32Range(v: unknown, field: string, min: number, max: number): number {
  if (v === undefined || v === null) return 0;
  const n = Number(integer(v, field));
  if (n < min || n > max) throw new DecodeError(`${n} is out of range`, field);
  return n;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

export function uint64(v: unknown, field: string): bigint {
  if (v === undefined || v === null) return 0n;
  const n = integer(v, field);
  if (n < 0n || n > U64_MAX) throw new DecodeError(`${n} is out of range for an unsigned 64-bit integer`, field);
  return n;
}

export function int64(v: unknown, field: string): bigint {
  if (v === undefined || v === null) return 0n;
  const n = integer(v, field);
  if (n < I64_MIN || n > I64_MAX) throw new DecodeError(`${n} is out of range for a 64-bit integer`, field);
  return n;
}

/** An int64 with explicit presence (oneof members): absent stays undefined. */
export function optionalInt64(v: unknown, field: string): bigint | undefined {
  return v === undefined || v === null ? undefined : int64(v, field);
}

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Numbers arrive as JSON numbers (exact below 16 digits), lossless big numbers, or decimal strings. */
function integer(v: unknown, field: string): bigint {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return BigInt(v);
  } else if (typeof v === 'bigint') {
    return v;
  } else if (typeof v === 'string' || v instanceof LosslessNumber) {
    const exact = exactInteger(typeof v === 'string' ? v.trim() : v.value);
    if (exact !== undefined) return exact;
  }
  throw new DecodeError(`expected an integer, got ${describe(v)}`, field);
}

/** Exact value of a decimal literal such as "1795315549135000000" or "1.5e3"; undefined if not an integer. */
function exactInteger(text: string): bigint | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = m;
  if (whole === '' && fraction === '') return undefined;
  const digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return 0n;
  const scale = Number(exponent) - fraction.length;
  let magnitude: bigint;
  if (scale >= 0) {
    // 2^64 has 20 digits, so anything longer is out of range anyway; this bounds the work.
    if (digits.length + scale > 40) return BigInt(sign + '1' + '0'.repeat(40));
    magnitude = BigInt(digits) * 10n ** BigInt(scale);
  } else {
    const cut = digits.length + scale;
    if (!/^0*$/.test(digits.slice(Math.max(cut, 0)))) return undefined;
    magnitude = cut > 0 ? BigInt(digits.slice(0, cut)) : 0n;
  }
  return sign === '-' ? -magnitude : magnitude;
}

const HEX = /^[0-9a-fA-F]*$/;

/** A trace id (16 bytes) or span id (8 bytes): case-insensitive hex in OTLP/JSON, returned lowercase. */
export function hexId(v: unknown, bytes: 8 | 16, field: string): string {
  const s = str(v, field);
  if (s === '') return '';
  if (s.length !== bytes * 2 || !HEX.test(s)) {
    const got = JSON.stringify(s.slice(0, 64));
    throw new DecodeError(`expected ${bytes * 2} hex characters (${bytes} bytes), got ${got}`, field);
  }
  return s.toLowerCase();
}

// Standard or URL-safe alphabet (proto3 JSON accepts both; Node decodes both).
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function base64(v: unknown, field: string): Uint8Array {
  const s = str(v, field);
  if (!BASE64.test(s) || s.replace(/=+$/, '').length % 4 === 1) throw new DecodeError('expected base64', field);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/**
 * Enums are integers in OTLP/JSON; names are accepted too, as the Collector does. Only the
 * table's own keys count: protobufjs builds it as a plain object, so "toString", "constructor"
 * or "__proto__" would otherwise resolve to what Object.prototype holds.
 */
export function enumValue(v: unknown, names: Readonly<Record<string, number>>, field: string): number {
  if (typeof v === 'string' && !NUMBER.test(v)) {
    const n = Object.hasOwn(names, v) ? names[v] : undefined;
    if (typeof n !== 'number') throw new DecodeError(`unknown enum value ${JSON.stringify(v.slice(0, 64))}`, field);
    return n;
  }
  return int32(v, field);
}

/** The camelCase key, else its snake_case alias (accepted as the Collector does). */
export function pick(o: Json, camel: string, snake: string): unknown {
  const v = o[camel];
  return v === undefined ? o[snake] : v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof LosslessNumber) return v.value;
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}
