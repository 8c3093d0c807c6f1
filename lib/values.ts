/**
 * Turning whatever users tag with into the strings Zipkin wants, within limits.
 */

/** What a value becomes as a tag: a string, or `undefined` to ignore it. */
export function tagString(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return undefined;
    case 'object':
      if (value === null) return undefined;
      if (value instanceof Error) return errorMessage(value);
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
      try {
        const json = JSON.stringify(value);
        return json === undefined ? String(value) : json;
      } catch {
        // Circular structures and throwing toJSON: say what it was rather than fail.
        return '[unserializable object]';
      }
    default:
      return safeString(value);
  }
}

/** Zipkin's `error` tag for a thrown value: its message, else its name, else `String(x)`. */
export function errorMessage(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    try {
      const { message, name } = error as { message?: unknown; name?: unknown };
      if (typeof message === 'string' && message.length > 0) return message;
      if (typeof name === 'string' && name.length > 0) return name;
    } catch {
      // A getter that throws: fall through to String().
    }
  }
  return safeString(error);
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** The mark at the end of a value cut to its limit. */
export const TRUNCATION_MARK = '…';
