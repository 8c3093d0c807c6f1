/**
 * Joining logs to traces: the active span's ids, for a logger to write on
 * every line. `logFields` is shaped to be pino's `mixin` as it is
 * (`pino({ mixin: logFields })`) and a winston format's body, so the set-up is
 * one line; outside a span it adds nothing, so a line is never given the ids
 * of a trace it was not part of.
 */
import { activeSpan } from './context.js';

/** The ids a log line written inside a span carries. */
export interface LogIds {
  /** The trace's id, 32 or 16 lower-case hex digits, as Zipkin shows it. */
  traceId: string;
  /** The active span's id, 16 lower-case hex digits. */
  spanId: string;
}

/** What `logFields` returns outside a span: one frozen object, so a log line outside a trace costs no allocation. */
const NO_FIELDS: Readonly<Partial<LogIds>> = Object.freeze({});

/**
 * The active span's trace and span ids, or undefined outside a span. A
 * sampled-out span has ids too (its trace is still propagated), so its lines
 * can be found in the logs of every service it crossed.
 */
export function currentIds(): LogIds | undefined {
  const context = activeSpan()?.context;
  return context === undefined ? undefined : { traceId: context.traceId, spanId: context.spanId };
}

/**
 * `{ traceId, spanId }` inside a span, `{}` outside: pino's `mixin`
 * (`pino({ mixin: logFields })`), or winston's
 * `winston.format((info) => Object.assign(info, logFields()))()`.
 */
export function logFields(): Readonly<Partial<LogIds>> {
  return currentIds() ?? NO_FIELDS;
}
