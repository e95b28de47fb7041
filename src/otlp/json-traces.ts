import {
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
import type { ExportTraceServiceRequest, ResourceSpans, ScopeSpans, Span, SpanEvent, SpanLink } from './types.js';

const SPAN_KIND = enumValues('opentelemetry.proto.trace.v1.Span.SpanKind');
const STATUS_CODE = enumValues('opentelemetry.proto.trace.v1.Status.StatusCode');

export function tracesRequest(o: Json): ExportTraceServiceRequest {
  return { resourceSpans: list(pick(o, 'resourceSpans', 'resource_spans'), 'resourceSpans', resourceSpans) };
}

function resourceSpans(o: Json): ResourceSpans {
  return {
    resource: message(o['resource'], 'resource', resource, emptyResource),
    scopeSpans: list(pick(o, 'scopeSpans', 'scope_spans'), 'scopeSpans', scopeSpans),
    schemaUrl: schemaUrl(o),
  };
}

function scopeSpans(o: Json): ScopeSpans {
  return {
    scope: message(o['scope'], 'scope', scope, emptyScope),
    spans: list(o['spans'], 'spans', span),
    schemaUrl: schemaUrl(o),
  };
}

function span(o: Json): Span {
  return {
    traceId: hexId(pick(o, 'traceId', 'trace_id'), 16, 'traceId'),
    spanId: hexId(pick(o, 'spanId', 'span_id'), 8, 'spanId'),
    traceState: str(pick(o, 'traceState', 'trace_state'), 'traceState'),
    parentSpanId: hexId(pick(o, 'parentSpanId', 'parent_span_id'), 8, 'parentSpanId'),
    flags: uint32(o['flags'], 'flags'),
    name: str(o['name'], 'name'),
    kind: enumValue(o['kind'], SPAN_KIND, 'kind'),
    startTimeUnixNano: uint64(pick(o, 'startTimeUnixNano', 'start_time_unix_nano'), 'startTimeUnixNano'),
    endTimeUnixNano: uint64(pick(o, 'endTimeUnixNano', 'end_time_unix_nano'), 'endTimeUnixNano'),
    attributes: attributes(o),
    droppedAttributesCount: droppedAttributesCount(o),
    events: list(o['events'], 'events', event),
    droppedEventsCount: uint32(pick(o, 'droppedEventsCount', 'dropped_events_count'), 'droppedEventsCount'),
    links: list(o['links'], 'links', link),
    droppedLinksCount: uint32(pick(o, 'droppedLinksCount', 'dropped_links_count'), 'droppedLinksCount'),
    status: message(o['status'], 'status', status, () => ({ message: '', code: 0 })),
  };
}

function event(o: Json): SpanEvent {
  return {
    timeUnixNano: uint64(pick(o, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
    name: str(o['name'], 'name'),
    attributes: attributes(o),
    droppedAttributesCount: droppedAttributesCount(o),
  };
}

function link(o: Json): SpanLink {
  return {
    traceId: hexId(pick(o, 'traceId', 'trace_id'), 16, 'traceId'),
    spanId: hexId(pick(o, 'spanId', 'span_id'), 8, 'spanId'),
    traceState: str(pick(o, 'traceState', 'trace_state'), 'traceState'),
    attributes: attributes(o),
    droppedAttributesCount: droppedAttributesCount(o),
    flags: uint32(o['flags'], 'flags'),
  };
}

function status(o: Json): Span['status'] {
  return { message: str(o['message'], 'message'), code: enumValue(o['code'], STATUS_CODE, 'code') };
}
