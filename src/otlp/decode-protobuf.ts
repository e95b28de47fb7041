import { finalError, type DecodeOptions } from './decode-path.js';
import { setMaxDepth } from './protobuf-common.js';
import { logsRequest } from './protobuf-logs.js';
import { metricsRequest } from './protobuf-metrics.js';
import { tracesRequest } from './protobuf-traces.js';
import { createReader, type Reader } from './protobuf-wire.js';
import type { Signal, SignalRequest } from './types.js';

export type { DecodeOptions };

const decoders: { [S in Signal]: (r: Reader, end: number) => SignalRequest[S] } = {
  logs: logsRequest,
  metrics: metricsRequest,
  traces: tracesRequest,
};

/**
 * Decodes an Export<Signal>ServiceRequest from protobuf bytes in one pass, straight into the shapes of
 * types.ts. Throws DecodeError on malformed input, including known fields with the wrong wire type and
 * trace/span ids of the wrong length.
 */
export function decodeProtobuf<S extends Signal>(
  signal: S,
  bytes: Uint8Array,
  options: DecodeOptions = {},
): SignalRequest[S] {
  setMaxDepth(options.maxDepth ?? 32);
  try {
    const r = createReader(bytes);
    return decoders[signal](r, r.len);
  } catch (err) {
    throw finalError(err, `${signal} protobuf request`);
  }
}
