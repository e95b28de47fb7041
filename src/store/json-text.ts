/**
 * The JSON text that stores keep of record documents (attributes, resource, scope,
 * bodies, distributions).
 *
 * Ingest already serializes a record's attributes and body to compute its id, and every
 * record of a resource or scope block shares one resource and one scope object, so the
 * text is remembered per object: each document is stringified once, not once per
 * record and again per adapter.
 */

const texts = new WeakMap<object, string>();

/** JSON.stringify writes U+0000 and lone surrogates as \u escapes; an escape is one when an even number of backslashes precedes it. */
const badEscape = /(?<!\\)((?:\\\\)*)\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/g;

/** Neither store can keep U+0000 or an unpaired surrogate in text: both become U+FFFD. */
const clean = (json: string): string => (json.includes('\\u') ? json.replace(badEscape, '$1\\ufffd') : json);

/**
 * JSON.stringify of `value`, kept as the stored text of `value`. Records are plain data
 * that nothing changes once normalized; a document changed after this would be stored
 * as it was.
 */
export function remembered(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  if (typeof value === 'object' && value !== null) texts.set(value, clean(json));
  return json;
}

/** The JSON text of a document, with U+0000 and lone surrogates replaced by U+FFFD. */
export function jsonText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return clean(JSON.stringify(value) ?? 'null');
  let text = texts.get(value);
  if (text === undefined) {
    text = clean(JSON.stringify(value) ?? 'null');
    texts.set(value, text);
  }
  return text;
}
