import { DecodeError } from './types.js';

export interface DecodeOptions {
  /** Deepest allowed AnyValue nesting (arrayValue / kvlistValue), default 32; deeper input is rejected. */
  maxDepth?: number;
}

/**
 * Decoders throw a DecodeError naming only the leaf field; each enclosing level rethrows it with its own
 * segment prepended. Paths are thus built only on failure, never on the hot path.
 */
export function at(err: unknown, key: string, index?: number): DecodeError {
  const inner = asDecodeError(err);
  const segment = index === undefined ? key : `${key}[${index}]`;
  const field = inner.field === '' ? segment : `${segment}.${inner.field}`;
  return new DecodeError(inner.message, field);
}

/** Turns low-level failures (protobufjs reader errors, JSON syntax errors) into DecodeError; anything else is a bug. */
export function asDecodeError(err: unknown): DecodeError {
  if (err instanceof DecodeError) return err;
  if (err instanceof RangeError || err instanceof SyntaxError || (err instanceof Error && err.constructor === Error)) {
    return new DecodeError(err.message);
  }
  throw err;
}

/** The error leaving a decoder: its message carries the full path so logs and 400 bodies are self-explanatory. */
export function finalError(err: unknown, what: string): DecodeError {
  const inner = asDecodeError(err);
  const where = inner.field === '' ? '' : ` at ${inner.field}`;
  return new DecodeError(`invalid ${what}${where}: ${inner.message}`, inner.field);
}
