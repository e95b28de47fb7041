import type { AnyValue, KeyValue } from '../otlp/types.js';
import type { AttrValue, Attributes } from '../store/records.js';

export interface AttributeLimits {
  maxDepth: number;
  maxAttributes: number;
  maxStringLength: number;
}

/** A record that breaks a limit that truncation cannot fix; it is rejected through partial_success. */
export class LimitError extends Error {
  override readonly name = 'LimitError';
}

const TRUNCATED = '…[truncated]';
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function truncate(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max) + TRUNCATED;
}

/**
 * Converts an OTLP AnyValue to plain JSON-able data, keeping what was sent:
 * a string "4" stays a string (older Claude Code sends numbers that way) and
 * integers beyond 2^53 become decimal strings rather than losing digits.
 */
export function toAttrValue(v: AnyValue, limits: AttributeLimits, depth = 0): AttrValue {
  switch (v.type) {
    case 'string':
      return truncate(v.value, limits.maxStringLength);
    case 'bool':
      return v.value;
    case 'int':
      return v.value <= MAX_SAFE && v.value >= -MAX_SAFE ? Number(v.value) : v.value.toString();
    case 'double':
      // JSON (and so JSONB / BSON documents in our stores) has no NaN or Infinity.
      return Number.isFinite(v.value) ? v.value : String(v.value);
    case 'bytes':
      return truncate(Buffer.from(v.value).toString('base64'), limits.maxStringLength);
    case 'empty':
      return null;
    case 'array':
      if (depth >= limits.maxDepth) throw new LimitError(`attribute nesting deeper than ${limits.maxDepth}`);
      if (v.values.length > limits.maxAttributes) throw new LimitError(`array of more than ${limits.maxAttributes} values`);
      return v.values.map((x) => toAttrValue(x, limits, depth + 1));
    case 'kvlist':
      if (depth >= limits.maxDepth) throw new LimitError(`attribute nesting deeper than ${limits.maxDepth}`);
      return toAttributes(v.values, limits, depth + 1);
  }
}

export function toAttributes(kvs: KeyValue[], limits: AttributeLimits, depth = 0): Attributes {
  if (kvs.length > limits.maxAttributes) {
    throw new LimitError(`${kvs.length} attributes, more than the limit of ${limits.maxAttributes}`);
  }
  const out: Attributes = {};
  for (const kv of kvs) {
    const key = truncate(kv.key, 256);
    const value = toAttrValue(kv.value, limits, depth);
    // Plain assignment to "__proto__" would set the object's prototype instead of keeping the attribute.
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

/** Reads an attribute as a string whatever its wire type; null when absent or empty. */
export function attrString(attrs: Attributes, key: string): string | null {
  const v = attrs[key];
  if (v === undefined || v === null || v === '') return null;
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Reads an attribute as a number whether it came as a number or a numeric string ("4"); null otherwise. */
export function attrNumber(attrs: Attributes, key: string): number | null {
  const v = attrs[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Reads an attribute as a boolean whether it came as true or "true"; null otherwise. */
export function attrBool(attrs: Attributes, key: string): boolean | null {
  const v = attrs[key];
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return null;
}
