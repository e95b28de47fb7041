import { readFileSync } from 'node:fs';
import type { Signal } from '../../src/otlp/types.js';

/**
 * What a real Claude Code 2.1.328 sent over http/json for one prompt (the request bodies of
 * shared/reference/claude-code-2.1.328-capture, copied so the tests need nothing outside the repo).
 */
export const captureText = (signal: Signal): string =>
  readFileSync(new URL(`../fixtures/claude-code-2.1.328/${signal}.json`, import.meta.url), 'utf8');
