import { at } from './decode-path.js';
import {
  anyValue,
  attributes,
  droppedAttributesCount,
  emptyResource,
  emptyScope,
  list,
  message,
  resource,
  schemaUrl,
  scope,
} from './json-common.js';
import { enumValue, hexId, pick, str, uint32, uint64, type Json } from './json-values.js';
import { enumValues } from './proto.js';
import type { ExportLogsServiceRequest, LogRecord, ResourceLogs, ScopeLogs } from './types.js';

const SEVERITY_NUMBER = enumValues('opentelemetry.proto.logs.v1.SeverityNumber');

export function logsRequest(o: Json): ExportLogsServiceRequest {
  return { resourceLogs: list(pick(o, 'resourceLogs', 'resource_logs'), 'resourceLogs', resourceLogs) };
}

function resourceLogs(o: Json): ResourceLogs {
  return {
    resource: message(o['resource'], 'resource', resource, emptyResource),
    scopeLogs: list(pick(o, 'scopeLogs', 'scope_logs'), 'scopeLogs', scopeLogs),
    schemaUrl: schemaUrl(o),
  };
}

function scopeLogs(o: Json): ScopeLogs {
  return {
    scope: message(o['scope'], 'scope', scope, emptyScope),
    logRecords: list(pick(o, 'logRecords', 'log_records'), 'logRecords', logRecord),
    schemaUrl: schemaUrl(o),
  };
}

function logRecord(o: Json): LogRecord {
  let body;
  try {
    body = anyValue(o['body'], 1);
  } catch (err) {
    throw at(err, 'body');
  }
  return {
    timeUnixNano: uint64(pick(o, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
    observedTimeUnixNano: uint64(pick(o, 'observedTimeUnixNano', 'observed_time_unix_nano'), 'observedTimeUnixNano'),
    severityNumber: enumValue(pick(o, 'severityNumber', 'severity_number'), SEVERITY_NUMBER, 'severityNumber'),
    severityText: str(pick(o, 'severityText', 'severity_text'), 'severityText'),
    body,
    attributes: attributes(o),
    droppedAttributesCount: droppedAttributesCount(o),
    flags: uint32(o['flags'], 'flags'),
    traceId: hexId(pick(o, 'traceId', 'trace_id'), 16, 'traceId'),
    spanId: hexId(pick(o, 'spanId', 'span_id'), 8, 'spanId'),
    eventName: str(pick(o, 'eventName', 'event_name'), 'eventName'),
  };
}
