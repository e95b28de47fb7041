import { at } from './decode-path.js';
import { bytesCopy, checkEnd, fieldMask, int64, skipUnknown, string, sub, type Reader } from './protobuf-wire.js';
import { DecodeError, type AnyValue, type InstrumentationScope, type KeyValue, type Resource } from './types.js';

// Decoding is synchronous, so one module-level limit set by the entry point is never shared between calls.
let maxDepth = 32;
export function setMaxDepth(depth: number): void {
  maxDepth = depth;
}

const ANY_VALUE_FIELDS = fieldMask(1, 2, 3, 4, 5, 6, 7, 8);
const LIST_FIELDS = fieldMask(1);
const KEY_VALUE_FIELDS = fieldMask(1, 2, 3);
const SCOPE_FIELDS = fieldMask(1, 2, 3, 4);
const RESOURCE_FIELDS = fieldMask(1, 2, 3);

/** AnyValue at nesting `depth` (1 for an attribute value or a log body). The last oneof member on the wire wins. */
export function anyValue(r: Reader, end: number, depth: number): AnyValue {
  if (depth > maxDepth) throw new DecodeError(`AnyValue nested deeper than ${maxDepth} levels`);
  let value: AnyValue = { type: 'empty' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 string_value
        value = { type: 'string', value: string(r) };
        break;
      case 16: // 2 bool_value
        value = { type: 'bool', value: r.bool() };
        break;
      case 24: // 3 int_value
        value = { type: 'int', value: int64(r) };
        break;
      case 33: // 4 double_value
        value = { type: 'double', value: r.double() };
        break;
      case 42: // 5 array_value
        try {
          value = { type: 'array', values: anyValueList(r, sub(r, end), depth) };
        } catch (err) {
          throw at(err, 'arrayValue');
        }
        break;
      case 50: // 6 kvlist_value
        try {
          value = { type: 'kvlist', values: keyValueList(r, sub(r, end), depth) };
        } catch (err) {
          throw at(err, 'kvlistValue');
        }
        break;
      case 58: // 7 bytes_value
        value = { type: 'bytes', value: bytesCopy(r) };
        break;
      case 64: // 8 string_value_strindex: Profiles only, treated as absent
        r.int32();
        break;
      default:
        skipUnknown(r, tag, ANY_VALUE_FIELDS);
    }
  }
  checkEnd(r, end);
  return value;
}

function anyValueList(r: Reader, end: number, depth: number): AnyValue[] {
  const values: AnyValue[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) {
      const i = values.length;
      try {
        values.push(anyValue(r, sub(r, end), depth + 1));
      } catch (err) {
        throw at(err, 'values', i);
      }
    } else skipUnknown(r, tag, LIST_FIELDS);
  }
  checkEnd(r, end);
  return values;
}

function keyValueList(r: Reader, end: number, depth: number): KeyValue[] {
  const values: KeyValue[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) pushKeyValue(r, end, depth + 1, values, 'values');
    else skipUnknown(r, tag, LIST_FIELDS);
  }
  checkEnd(r, end);
  return values;
}

function keyValue(r: Reader, end: number, depth: number): KeyValue {
  let key = '';
  let value: AnyValue | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 key
        key = string(r);
        break;
      case 18: // 2 value
        try {
          value = anyValue(r, sub(r, end), depth);
        } catch (err) {
          throw at(err, 'value');
        }
        break;
      case 24: // 3 key_strindex: Profiles only
        r.int32();
        break;
      default:
        skipUnknown(r, tag, KEY_VALUE_FIELDS);
    }
  }
  checkEnd(r, end);
  return { key, value: value ?? { type: 'empty' } };
}

/** Decodes one length-delimited KeyValue at `depth` and appends it, naming `field[i]` on failure. */
export function pushKeyValue(r: Reader, end: number, depth: number, out: KeyValue[], field: string): void {
  const i = out.length;
  try {
    out.push(keyValue(r, sub(r, end), depth));
  } catch (err) {
    throw at(err, field, i);
  }
}

export function scope(r: Reader, end: number): InstrumentationScope {
  const s = emptyScope();
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 name
        s.name = string(r);
        break;
      case 18: // 2 version
        s.version = string(r);
        break;
      case 26: // 3 attributes
        pushKeyValue(r, end, 1, s.attributes, 'attributes');
        break;
      case 32: // 4 dropped_attributes_count
        s.droppedAttributesCount = r.uint32();
        break;
      default:
        skipUnknown(r, tag, SCOPE_FIELDS);
    }
  }
  checkEnd(r, end);
  return s;
}

export function resource(r: Reader, end: number): Resource {
  const res = emptyResource();
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 attributes
        pushKeyValue(r, end, 1, res.attributes, 'attributes');
        break;
      case 16: // 2 dropped_attributes_count
        res.droppedAttributesCount = r.uint32();
        break;
      case 26: // 3 entity_refs (Development): not modelled
        r.skipType(2);
        break;
      default:
        skipUnknown(r, tag, RESOURCE_FIELDS);
    }
  }
  checkEnd(r, end);
  return res;
}

export function emptyScope(): InstrumentationScope {
  return { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
}

export function emptyResource(): Resource {
  return { attributes: [], droppedAttributesCount: 0 };
}
