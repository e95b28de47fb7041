import { at } from './decode-path.js';
import { arr, base64, bool, double, int64, isObject, obj, pick, str, uint32, type Json } from './json-values.js';
import { DecodeError, type AnyValue, type InstrumentationScope, type KeyValue, type Resource } from './types.js';

// Decoding is synchronous, so one module-level limit set by the entry point is never shared between calls.
let maxDepth = 32;
export function setMaxDepth(depth: number): void {
  maxDepth = depth;
}

/** Maps each element of a JSON array with `decode`, naming `field[i]` on failure. */
export function list<T>(v: unknown, field: string, decode: (o: Json) => T): T[] {
  const items = arr(v, field);
  const out: T[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      const item = items[i];
      if (!isObject(item)) throw new DecodeError(`expected an object, got ${item === null ? 'null' : typeof item}`);
      out.push(decode(item));
    } catch (err) {
      throw at(err, field, i);
    }
  }
  return out;
}

/** Decodes an optional embedded message with `decode`, or returns `empty()` when it is absent. */
export function message<T>(v: unknown, field: string, decode: (o: Json) => T, empty: () => T): T {
  const o = obj(v, field);
  if (o === undefined) return empty();
  try {
    return decode(o);
  } catch (err) {
    throw at(err, field);
  }
}

/** AnyValue at nesting `depth` (1 for an attribute value or a log body). */
export function anyValue(v: unknown, depth: number): AnyValue {
  if (depth > maxDepth) throw new DecodeError(`AnyValue nested deeper than ${maxDepth} levels`);
  const o = obj(v, '');
  if (o === undefined) return { type: 'empty' };
  let x: unknown;
  if ((x = pick(o, 'stringValue', 'string_value')) != null) return { type: 'string', value: str(x, 'stringValue') };
  if ((x = pick(o, 'boolValue', 'bool_value')) != null) return { type: 'bool', value: bool(x, 'boolValue') };
  if ((x = pick(o, 'intValue', 'int_value')) != null) return { type: 'int', value: int64(x, 'intValue') };
  if ((x = pick(o, 'doubleValue', 'double_value')) != null) return { type: 'double', value: double(x, 'doubleValue') };
  if ((x = pick(o, 'arrayValue', 'array_value')) != null) {
    const inner = obj(x, 'arrayValue');
    const values = inner === undefined ? [] : anyValues(inner['values'], depth + 1);
    return { type: 'array', values };
  }
  if ((x = pick(o, 'kvlistValue', 'kvlist_value')) != null) {
    const inner = obj(x, 'kvlistValue');
    const values = inner === undefined ? [] : keyValues(inner['values'], depth + 1, 'kvlistValue.values');
    return { type: 'kvlist', values };
  }
  if ((x = pick(o, 'bytesValue', 'bytes_value')) != null) return { type: 'bytes', value: base64(x, 'bytesValue') };
  // stringValueStrindex is Profiles-only and, like any unknown key, means "absent".
  return { type: 'empty' };
}

function anyValues(v: unknown, depth: number): AnyValue[] {
  const items = arr(v, 'arrayValue.values');
  const out: AnyValue[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      out.push(anyValue(items[i], depth));
    } catch (err) {
      throw at(err, 'arrayValue.values', i);
    }
  }
  return out;
}

/** A repeated KeyValue field whose values sit at nesting `depth`. */
export function keyValues(v: unknown, depth: number, field: string): KeyValue[] {
  const items = arr(v, field);
  const out: KeyValue[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      const kv = obj(items[i], '');
      if (kv === undefined) throw new DecodeError('expected an object, got null');
      let value: AnyValue;
      try {
        value = anyValue(kv['value'], depth);
      } catch (err) {
        throw at(err, 'value');
      }
      out.push({ key: str(kv['key'], 'key'), value });
    } catch (err) {
      throw at(err, field, i);
    }
  }
  return out;
}

export function attributes(o: Json): KeyValue[] {
  return keyValues(o['attributes'], 1, 'attributes');
}

export function droppedAttributesCount(o: Json): number {
  return uint32(pick(o, 'droppedAttributesCount', 'dropped_attributes_count'), 'droppedAttributesCount');
}

export function emptyScope(): InstrumentationScope {
  return { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
}

export function emptyResource(): Resource {
  return { attributes: [], droppedAttributesCount: 0 };
}

export function scope(o: Json): InstrumentationScope {
  return {
    name: str(o['name'], 'name'),
    version: str(o['version'], 'version'),
    attributes: attributes(o),
    droppedAttributesCount: droppedAttributesCount(o),
  };
}

export function resource(o: Json): Resource {
  return { attributes: attributes(o), droppedAttributesCount: droppedAttributesCount(o) };
}

export function schemaUrl(o: Json): string {
  return str(pick(o, 'schemaUrl', 'schema_url'), 'schemaUrl');
}
