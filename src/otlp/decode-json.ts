import { finalError, type DecodeOptions } from './decode-path.js';
import { setMaxDepth } from './json-common.js';
import { logsRequest } from './json-logs.js';
import { metricsRequest } from './json-metrics.js';
import { tracesRequest } from './json-traces.js';
import { isObject, parseJson, type Json } from './json-values.js';
import { DecodeError, type Signal, type SignalRequest } from './types.js';

export type { DecodeOptions };

const decoders: { [S in Signal]: (o: Json) => SignalRequest[S] } = {
  logs: logsRequest,
  metrics: metricsRequest,
  traces: tracesRequest,
};

/**
 * Decodes an OTLP/JSON Export<Signal>ServiceRequest into the shapes of types.ts. Lenient where the
 * Collector is (snake_case keys, enum names, 64-bit values as numbers or strings, unknown keys ignored),
 * strict where data would be lost (malformed ids, wrong types, non-integers in integer fields).
 */
export function decodeJson<S extends Signal>(signal: S, text: string, options: DecodeOptions = {}): SignalRequest[S] {
  setMaxDepth(options.maxDepth ?? 32);
  const what = `${signal} JSON request`;
  let root: unknown;
  try {
    root = parseJson(text);
  } catch (err) {
    // lossless-json recurses, so hostile nesting ends in a RangeError rather than a SyntaxError.
    const reason = err instanceof RangeError ? 'JSON nested too deeply' : `malformed JSON: ${(err as Error).message}`;
    throw finalError(new DecodeError(reason), what);
  }
  try {
    if (!isObject(root)) {
      const got = root === null ? 'null' : Array.isArray(root) ? 'an array' : typeof root;
      throw new DecodeError(`expected a JSON object at the top level, got ${got}`);
    }
    return decoders[signal](root);
  } catch (err) {
    throw finalError(err, what);
  }
}
