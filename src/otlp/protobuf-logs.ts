import { at } from './decode-path.js';
import { anyValue, emptyResource, emptyScope, pushKeyValue, resource, scope } from './protobuf-common.js';
import {
  checkEnd,
  fieldMask,
  fixed64,
  id,
  message,
  pushMessage,
  skipUnknown,
  string,
  sub,
  type Reader,
} from './protobuf-wire.js';
import type { ExportLogsServiceRequest, LogRecord, ResourceLogs, ScopeLogs } from './types.js';

const REQUEST_FIELDS = fieldMask(1);
const CONTAINER_FIELDS = fieldMask(1, 2, 3);
const LOG_RECORD_FIELDS = fieldMask(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12);

export function logsRequest(r: Reader, end: number): ExportLogsServiceRequest {
  const resourceLogs: ResourceLogs[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) pushMessage(r, end, resourceLogs, 'resourceLogs', decodeResourceLogs);
    else skipUnknown(r, tag, REQUEST_FIELDS);
  }
  checkEnd(r, end);
  return { resourceLogs };
}

function decodeResourceLogs(r: Reader, end: number): ResourceLogs {
  const out: ResourceLogs = { resource: emptyResource(), scopeLogs: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 resource
        out.resource = message(r, end, 'resource', resource);
        break;
      case 18: // 2 scope_logs
        pushMessage(r, end, out.scopeLogs, 'scopeLogs', decodeScopeLogs);
        break;
      case 26: // 3 schema_url
        out.schemaUrl = string(r);
        break;
      default:
        skipUnknown(r, tag, CONTAINER_FIELDS);
    }
  }
  checkEnd(r, end);
  return out;
}

function decodeScopeLogs(r: Reader, end: number): ScopeLogs {
  const out: ScopeLogs = { scope: emptyScope(), logRecords: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 scope
        out.scope = message(r, end, 'scope', scope);
        break;
      case 18: // 2 log_records
        pushMessage(r, end, out.logRecords, 'logRecords', logRecord);
        break;
      case 26: // 3 schema_url
        out.schemaUrl = string(r);
        break;
      default:
        skipUnknown(r, tag, CONTAINER_FIELDS);
    }
  }
  checkEnd(r, end);
  return out;
}

function logRecord(r: Reader, end: number): LogRecord {
  const rec: LogRecord = {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: { type: 'empty' },
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 9: // 1 time_unix_nano
        rec.timeUnixNano = fixed64(r);
        break;
      case 89: // 11 observed_time_unix_nano
        rec.observedTimeUnixNano = fixed64(r);
        break;
      case 16: // 2 severity_number
        rec.severityNumber = r.int32();
        break;
      case 26: // 3 severity_text
        rec.severityText = string(r);
        break;
      case 42: // 5 body
        try {
          rec.body = anyValue(r, sub(r, end), 1);
        } catch (err) {
          throw at(err, 'body');
        }
        break;
      case 50: // 6 attributes
        pushKeyValue(r, end, 1, rec.attributes, 'attributes');
        break;
      case 56: // 7 dropped_attributes_count
        rec.droppedAttributesCount = r.uint32();
        break;
      case 69: // 8 flags (fixed32)
        rec.flags = r.fixed32();
        break;
      case 74: // 9 trace_id
        rec.traceId = id(r, end, 16, 'traceId');
        break;
      case 82: // 10 span_id
        rec.spanId = id(r, end, 8, 'spanId');
        break;
      case 98: // 12 event_name
        rec.eventName = string(r);
        break;
      default:
        skipUnknown(r, tag, LOG_RECORD_FIELDS);
    }
  }
  checkEnd(r, end);
  return rec;
}
