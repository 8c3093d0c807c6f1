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
      if (isError(value)) return errorMessage(value);
      try {
        if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
        const json = JSON.stringify(value);
        return json === undefined ? safeString(value) : json;
      } catch {
        // Circular structures, throwing toJSON, revoked proxies: say what it was rather than fail.
        return '[unserializable object]';
      }
    default:
      return safeString(value);
  }
}

function isError(value: object): boolean {
  try {
    return value instanceof Error;
  } catch {
    return false;
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
    try {
      return Object.prototype.toString.call(value);
    } catch {
      // A revoked Proxy refuses even that.
      return '[unprintable value]';
    }
  }
}

/** `text` cut to `max` UTF-16 units, never between the halves of a surrogate pair. */
export function cutText(text: string, max: number): string {
  let end = Math.max(0, max - TRUNCATION_MARK.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + TRUNCATION_MARK;
}

/** The mark at the end of a value cut to its limit. */
export const TRUNCATION_MARK = '…';
