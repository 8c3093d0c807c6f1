/**
 * The errors ziptrace throws at a programmer: each a class with a stable
 * `code`, so callers can tell them apart without parsing messages.
 *
 * ziptrace only throws where code must change (an option, an argument, a
 * timestamp in the wrong unit); anything that happens while tracing runs is
 * caught and counted instead. Every class extends `TypeError`, which is what
 * these were before they had classes.
 *
 * `instanceof` works across copies of ziptrace loaded side by side (an
 * `import` and a `require` of the dual package, or two installed versions):
 * each class recognises instances by a registered symbol rather than by its
 * prototype, as undici's errors do.
 */

const ERROR_MARK = Symbol.for('ziptrace.error.v1');

/** The codes of ziptrace's errors. */
export type ZiptraceErrorCode = 'ZIPTRACE_INVALID_OPTION' | 'ZIPTRACE_INVALID_ARGUMENT' | 'ZIPTRACE_INVALID_TIMESTAMP';

/** The base class of every error ziptrace throws on purpose. */
export class ZiptraceError extends TypeError {
  /** A stable identifier for the kind of mistake, such as `ZIPTRACE_INVALID_OPTION`. */
  readonly code: ZiptraceErrorCode;

  /** @param message what is wrong and what to do instead, starting `ziptrace: `. */
  constructor(message: string, code: ZiptraceErrorCode) {
    super(message);
    this.code = code;
    // Non-enumerable, as a class field would not be on older copies: only the marks differ between copies.
    Object.defineProperty(this, ERROR_MARK, { value: code, enumerable: false });
  }

  /** Any ziptrace error, from this copy of ziptrace or another. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return markOf(value) !== undefined;
  }

}

/** An option of `createTracer`, a reporter or a propagator is wrong: the message names it and what it takes. */
export class InvalidOptionError extends ZiptraceError {
  /** @param message what is wrong and what to do instead. */
  constructor(message: string) {
    super(message, 'ZIPTRACE_INVALID_OPTION');
  }

  /** Any `ZIPTRACE_INVALID_OPTION` error, from this copy of ziptrace or another. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return markOf(value) === 'ZIPTRACE_INVALID_OPTION';
  }

}

/** A function was called with an argument it cannot take (no function for `withSpan`, say). */
export class InvalidArgumentError extends ZiptraceError {
  /** @param message what is wrong and what to do instead. */
  constructor(message: string) {
    super(message, 'ZIPTRACE_INVALID_ARGUMENT');
  }

  /** Any `ZIPTRACE_INVALID_ARGUMENT` error, from this copy of ziptrace or another. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return markOf(value) === 'ZIPTRACE_INVALID_ARGUMENT';
  }

}

/**
 * A timestamp that cannot be epoch microseconds: milliseconds from
 * `Date.now()`, seconds, a negative number, `NaN`. The message names the unit.
 */
export class InvalidTimestampError extends ZiptraceError {
  /** @param message what is wrong and what to do instead. */
  constructor(message: string) {
    super(message, 'ZIPTRACE_INVALID_TIMESTAMP');
  }

  /** Any `ZIPTRACE_INVALID_TIMESTAMP` error, from this copy of ziptrace or another. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return markOf(value) === 'ZIPTRACE_INVALID_TIMESTAMP';
  }

}

// The name a stack trace and util.inspect show, on the prototype so that instances carry only their code.
for (const cls of [ZiptraceError, InvalidOptionError, InvalidArgumentError, InvalidTimestampError]) {
  Object.defineProperty(cls.prototype, 'name', { value: cls.name, writable: true, configurable: true, enumerable: false });
}

function markOf(value: unknown): ZiptraceErrorCode | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  try {
    return (value as Record<symbol, ZiptraceErrorCode | undefined>)[ERROR_MARK];
  } catch {
    // A revoked Proxy: not one of ours.
    return undefined;
  }
}
