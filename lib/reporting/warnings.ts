/**
 * How reporters tell the operator that spans are being lost, without ever
 * flooding a log: the default logger warns once per kind of failure per
 * minute through `process.emitWarning`.
 */

/** Receives one line per kind of failure; `kind` is stable (`'queue-full'`, `'rejected'`, …). */
export interface ReporterLogger {
  /** One failure: `message` is a line for the operator, `kind` what sort of failure it is, for throttling or counting. */
  warn(message: string, kind: string): void;
}

const WARN_EVERY_MS = 60_000;

/** The default: `process.emitWarning`, at most once per kind per minute. */
export function throttledWarnings(everyMs: number = WARN_EVERY_MS): ReporterLogger {
  const last = new Map<string, number>();
  return {
    warn(message, kind) {
      const now = Date.now();
      const previous = last.get(kind);
      if (previous !== undefined && now - previous < everyMs) return;
      last.set(kind, now);
      process.emitWarning(message, { type: 'ZiptraceWarning', code: `ZIPTRACE_${kind.toUpperCase().replace(/-/g, '_')}` });
    },
  };
}

/**
 * A user's logger that cannot throw into the reporter: a `warn` that throws
 * is a warning lost, never a batch left in flight or a rejection unhandled.
 */
export function guardedLogger(logger: ReporterLogger): ReporterLogger {
  return {
    warn(message, kind) {
      try {
        logger.warn(message, kind);
      } catch {
        // Nowhere left to tell it: the warning itself is what failed.
      }
    },
  };
}

/** A logger that says nothing. */
export const silentLogger: ReporterLogger = { warn() {} };
