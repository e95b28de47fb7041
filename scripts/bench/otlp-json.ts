import { METRIC_INFO, type SimPoint } from './session-metrics.js';
import { CLAUDE_CODE_VERSION, DOUBLE_KEYS, EVENTS_SCOPE, METRICS_SCOPE, type PlainAttrs } from './session-sim.js';

/** OTLP/JSON request bodies in the shape Claude Code's exporter sends (see the capture). */

type JsonAnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };

function anyValue(key: string, v: PlainAttrs[string]): JsonAnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return DOUBLE_KEYS.has(key) || !Number.isInteger(v) ? { doubleValue: v } : { intValue: String(v) };
}

export const keyValues = (attrs: PlainAttrs) => Object.entries(attrs).map(([key, v]) => ({ key, value: anyValue(key, v) }));

export interface JsonLogRecord {
  /** Nanoseconds as a decimal string (proto3 JSON for fixed64). */
  timeUnixNano: string;
  name: string;
  attrs: PlainAttrs;
}

export function logsRequestJson(resource: PlainAttrs, records: readonly JsonLogRecord[]): string {
  return JSON.stringify({
    resourceLogs: [{
      resource: { attributes: keyValues(resource), droppedAttributesCount: 0 },
      scopeLogs: [{
        scope: { name: EVENTS_SCOPE, version: CLAUDE_CODE_VERSION },
        logRecords: records.map((r) => ({
          timeUnixNano: r.timeUnixNano,
          observedTimeUnixNano: r.timeUnixNano,
          body: { stringValue: `claude_code.${r.name}` },
          attributes: keyValues(r.attrs),
          droppedAttributesCount: 0,
        })),
      }],
    }],
  });
}

export interface JsonPoint {
  point: SimPoint;
  startTimeUnixNano: string;
  timeUnixNano: string;
  /** Standard attributes plus the point's own. */
  attrs: PlainAttrs;
}

/** One export: each metric once, its points under it, as cumulative-to-delta SDK exports look. */
export function metricsRequestJson(resource: PlainAttrs, points: readonly JsonPoint[]): string {
  const byMetric = new Map<string, JsonPoint[]>();
  for (const p of points) {
    const list = byMetric.get(p.point.metric);
    if (list) list.push(p);
    else byMetric.set(p.point.metric, [p]);
  }
  return JSON.stringify({
    resourceMetrics: [{
      resource: { attributes: keyValues(resource), droppedAttributesCount: 0 },
      scopeMetrics: [{
        scope: { name: METRICS_SCOPE, version: CLAUDE_CODE_VERSION },
        metrics: [...byMetric].map(([name, list]) => ({
          name,
          description: METRIC_INFO[name]?.description ?? '',
          unit: METRIC_INFO[name]?.unit ?? '',
          sum: {
            aggregationTemporality: 1,
            isMonotonic: true,
            dataPoints: list.map((p) => ({
              attributes: keyValues(p.attrs),
              startTimeUnixNano: p.startTimeUnixNano,
              timeUnixNano: p.timeUnixNano,
              asDouble: p.point.value,
            })),
          },
        })),
      }],
    }],
  });
}
