/**
 * A short, safe description of any value, for the messages of the errors a
 * programmer must fix: never the whole value (it may be large or secret),
 * never a throw (it may be a revoked Proxy).
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (typeof value === 'symbol') return value.toString();
  if (typeof value !== 'object') return String(value);
  try {
    return Array.isArray(value) ? 'an array' : 'an object';
  } catch {
    // Array.isArray throws for a revoked Proxy.
    return 'a revoked Proxy';
  }
}
