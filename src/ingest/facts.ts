import type { Attributes, EventFacts, PointFacts } from '../store/records.js';
import { attrBool, attrNumber, attrString } from './attributes.js';

/** Coerces the attributes the pipeline needs; older clients send numbers as strings ("4") and booleans as "true". */
export function eventFacts(attrs: Attributes): EventFacts {
  return {
    model: attrString(attrs, 'model'),
    costUsd: attrNumber(attrs, 'cost_usd'),
    inputTokens: attrNumber(attrs, 'input_tokens'),
    outputTokens: attrNumber(attrs, 'output_tokens'),
    cacheReadTokens: attrNumber(attrs, 'cache_read_tokens'),
    cacheCreationTokens: attrNumber(attrs, 'cache_creation_tokens'),
    success: attrBool(attrs, 'success'),
    decision: attrString(attrs, 'decision'),
    toolName: attrString(attrs, 'tool_name'),
  };
}

export function pointFacts(attrs: Attributes): PointFacts {
  return {
    model: attrString(attrs, 'model'),
    type: attrString(attrs, 'type'),
    decision: attrString(attrs, 'decision'),
    startType: attrString(attrs, 'start_type'),
  };
}
