import { protoRoot, responseType } from './proto.js';
import type { ExportResult, Signal } from './types.js';

export type WireFormat = 'protobuf' | 'json';

const REJECTED_FIELD = {
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
  traces: 'rejectedSpans',
} as const satisfies Record<Signal, string>;

/** Longest message a response carries (the spec makes servers bound their responses; a message may quote input). */
export const MAX_MESSAGE_LENGTH = 1024;

/** `text` cut to MAX_MESSAGE_LENGTH characters, ending in "…" when it was longer. */
export function boundedMessage(text: string): string {
  return text.length <= MAX_MESSAGE_LENGTH ? text : `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}

/**
 * Export<Signal>ServiceResponse. On full success (nothing rejected, no message) partial_success stays
 * unset, as the spec requires: an empty message, `{}` in JSON.
 */
export function encodeExportResponse(signal: Signal, result: ExportResult, format: WireFormat): Buffer {
  const partialSuccess: Record<string, unknown> = {};
  if (result.rejected !== 0) partialSuccess[REJECTED_FIELD[signal]] = result.rejected;
  if (result.errorMessage !== '') partialSuccess['errorMessage'] = boundedMessage(result.errorMessage);
  const full = Object.keys(partialSuccess).length === 0;
  if (format === 'json') {
    if (full) return Buffer.from('{}');
    // proto3 JSON writes int64 as a decimal string.
    if (result.rejected !== 0) partialSuccess[REJECTED_FIELD[signal]] = String(result.rejected);
    return Buffer.from(JSON.stringify({ partialSuccess }));
  }
  if (full) return Buffer.alloc(0);
  return Buffer.from(responseType(signal).encode({ partialSuccess }).finish());
}

export interface StatusBody {
  /** gRPC status code; also the google.rpc.Status code. */
  code: number;
  message: string;
  /** Adds google.rpc.RetryInfo: how long the client should wait before retrying. */
  retryDelaySeconds?: number;
  /** Adds google.rpc.BadRequest with these field violations. */
  violations?: { field: string; description: string }[];
}

const RETRY_INFO_URL = 'type.googleapis.com/google.rpc.RetryInfo';
const BAD_REQUEST_URL = 'type.googleapis.com/google.rpc.BadRequest';

const StatusType = protoRoot.lookupType('google.rpc.Status');
const RetryInfoType = protoRoot.lookupType('google.rpc.RetryInfo');
const BadRequestType = protoRoot.lookupType('google.rpc.BadRequest');

/** google.rpc.Status, the body of every OTLP/HTTP error response (in the request's format). */
export function encodeStatus(status: StatusBody, format: WireFormat): Buffer {
  const delay = status.retryDelaySeconds === undefined ? undefined : duration(status.retryDelaySeconds);
  const violations = (status.violations ?? []).slice(0, 16).map((v) => ({ field: boundedMessage(v.field), description: boundedMessage(v.description) }));
  const message = boundedMessage(status.message);
  if (format === 'json') {
    const details: Record<string, unknown>[] = [];
    if (delay) details.push({ '@type': RETRY_INFO_URL, retryDelay: durationJson(delay) });
    if (violations.length > 0) details.push({ '@type': BAD_REQUEST_URL, fieldViolations: violations });
    const body = { code: status.code, message };
    return Buffer.from(JSON.stringify(details.length > 0 ? { ...body, details } : body));
  }
  // protobufjs's built-in google.protobuf.Any keeps its snake_case field name.
  const details: { type_url: string; value: Uint8Array }[] = [];
  if (delay) details.push({ type_url: RETRY_INFO_URL, value: RetryInfoType.encode({ retryDelay: delay }).finish() });
  if (violations.length > 0) {
    details.push({ type_url: BAD_REQUEST_URL, value: BadRequestType.encode({ fieldViolations: violations }).finish() });
  }
  return Buffer.from(StatusType.encode({ code: status.code, message, details }).finish());
}

/** The `grpc-status-details-bin` trailer: the protobuf google.rpc.Status. */
export function encodeStatusDetailsBin(status: StatusBody): Buffer {
  return encodeStatus(status, 'protobuf');
}

interface Duration {
  seconds: number;
  nanos: number;
}

function duration(totalSeconds: number): Duration {
  const clamped = Number.isFinite(totalSeconds) && totalSeconds > 0 ? totalSeconds : 0;
  let seconds = Math.floor(clamped);
  let nanos = Math.round((clamped - seconds) * 1e9);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return { seconds, nanos };
}

/** proto3 JSON Duration: "5s", "1.500s" (0, 3, 6 or 9 fractional digits). */
function durationJson({ seconds, nanos }: Duration): string {
  if (nanos === 0) return `${seconds}s`;
  let fraction = String(nanos).padStart(9, '0');
  while (fraction.endsWith('000')) fraction = fraction.slice(0, -3);
  return `${seconds}.${fraction}s`;
}

export { encodeRequest, encodeRequestProtobuf } from './encode-request.js';
