import { emptyResource, emptyScope, pushKeyValue, resource, scope } from './protobuf-common.js';
import {
  checkEnd,
  fieldMask,
  fixed64,
  id,
  message,
  pushMessage,
  skipUnknown,
  string,
  type Reader,
} from './protobuf-wire.js';
import type { ExportTraceServiceRequest, ResourceSpans, ScopeSpans, Span, SpanEvent, SpanLink } from './types.js';

const REQUEST_FIELDS = fieldMask(1);
const CONTAINER_FIELDS = fieldMask(1, 2, 3);
const SPAN_FIELDS = fieldMask(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const EVENT_FIELDS = fieldMask(1, 2, 3, 4);
const LINK_FIELDS = fieldMask(1, 2, 3, 4, 5, 6);
const STATUS_FIELDS = fieldMask(2, 3);

export function tracesRequest(r: Reader, end: number): ExportTraceServiceRequest {
  const resourceSpans: ResourceSpans[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) pushMessage(r, end, resourceSpans, 'resourceSpans', decodeResourceSpans);
    else skipUnknown(r, tag, REQUEST_FIELDS);
  }
  checkEnd(r, end);
  return { resourceSpans };
}

function decodeResourceSpans(r: Reader, end: number): ResourceSpans {
  const out: ResourceSpans = { resource: emptyResource(), scopeSpans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 resource
        out.resource = message(r, end, 'resource', resource);
        break;
      case 18: // 2 scope_spans
        pushMessage(r, end, out.scopeSpans, 'scopeSpans', decodeScopeSpans);
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

function decodeScopeSpans(r: Reader, end: number): ScopeSpans {
  const out: ScopeSpans = { scope: emptyScope(), spans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 scope
        out.scope = message(r, end, 'scope', scope);
        break;
      case 18: // 2 spans
        pushMessage(r, end, out.spans, 'spans', span);
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

function span(r: Reader, end: number): Span {
  const s: Span = {
    traceId: '',
    spanId: '',
    traceState: '',
    parentSpanId: '',
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { message: '', code: 0 },
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 trace_id
        s.traceId = id(r, end, 16, 'traceId');
        break;
      case 18: // 2 span_id
        s.spanId = id(r, end, 8, 'spanId');
        break;
      case 26: // 3 trace_state
        s.traceState = string(r);
        break;
      case 34: // 4 parent_span_id
        s.parentSpanId = id(r, end, 8, 'parentSpanId');
        break;
      case 133: // 16 flags (fixed32)
        s.flags = r.fixed32();
        break;
      case 42: // 5 name
        s.name = string(r);
        break;
      case 48: // 6 kind
        s.kind = r.int32();
        break;
      case 57: // 7 start_time_unix_nano
        s.startTimeUnixNano = fixed64(r);
        break;
      case 65: // 8 end_time_unix_nano
        s.endTimeUnixNano = fixed64(r);
        break;
      case 74: // 9 attributes
        pushKeyValue(r, end, 1, s.attributes, 'attributes');
        break;
      case 80: // 10 dropped_attributes_count
        s.droppedAttributesCount = r.uint32();
        break;
      case 90: // 11 events
        pushMessage(r, end, s.events, 'events', event);
        break;
      case 96: // 12 dropped_events_count
        s.droppedEventsCount = r.uint32();
        break;
      case 106: // 13 links
        pushMessage(r, end, s.links, 'links', link);
        break;
      case 112: // 14 dropped_links_count
        s.droppedLinksCount = r.uint32();
        break;
      case 122: // 15 status
        s.status = message(r, end, 'status', status);
        break;
      default:
        skipUnknown(r, tag, SPAN_FIELDS);
    }
  }
  checkEnd(r, end);
  return s;
}

function event(r: Reader, end: number): SpanEvent {
  const e: SpanEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 9: // 1 time_unix_nano
        e.timeUnixNano = fixed64(r);
        break;
      case 18: // 2 name
        e.name = string(r);
        break;
      case 26: // 3 attributes
        pushKeyValue(r, end, 1, e.attributes, 'attributes');
        break;
      case 32: // 4 dropped_attributes_count
        e.droppedAttributesCount = r.uint32();
        break;
      default:
        skipUnknown(r, tag, EVENT_FIELDS);
    }
  }
  checkEnd(r, end);
  return e;
}

function link(r: Reader, end: number): SpanLink {
  const l: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: // 1 trace_id
        l.traceId = id(r, end, 16, 'traceId');
        break;
      case 18: // 2 span_id
        l.spanId = id(r, end, 8, 'spanId');
        break;
      case 26: // 3 trace_state
        l.traceState = string(r);
        break;
      case 34: // 4 attributes
        pushKeyValue(r, end, 1, l.attributes, 'attributes');
        break;
      case 40: // 5 dropped_attributes_count
        l.droppedAttributesCount = r.uint32();
        break;
      case 53: // 6 flags (fixed32)
        l.flags = r.fixed32();
        break;
      default:
        skipUnknown(r, tag, LINK_FIELDS);
    }
  }
  checkEnd(r, end);
  return l;
}

function status(r: Reader, end: number): Span['status'] {
  const st = { message: '', code: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 18) st.message = string(r);
    else if (tag === 24) st.code = r.int32();
    else skipUnknown(r, tag, STATUS_FIELDS);
  }
  checkEnd(r, end);
  return st;
}
