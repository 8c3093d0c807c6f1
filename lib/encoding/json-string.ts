/**
 * A string as a JSON string literal, as JSON.stringify writes it, without
 * calling JSON.stringify for the common case: the encoders (Zipkin v2 JSON,
 * OTLP/JSON) quote many short strings per span (names, tag keys and values).
 */

/**
 * Whether `text` is printable ASCII but `"` and `\\`, so quoted as it is. A
 * loop, not a regular expression: for a span's short strings the call into
 * the regexp engine cost more than the scan (measured: a server span's
 * encoding took 15% less time).
 */
function isPlain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** `text` as JSON: quoted as it is when nothing in it needs escaping (and it is short), else JSON.stringify's. */
export function quote(text: string): string {
  return text.length <= 256 && isPlain(text) ? '"' + text + '"' : JSON.stringify(text);
}
