import { isPromise } from 'node:util/types';
import { carried, runtime, storage } from './context.js';
import { debug } from './debug.js';
import { describe } from './describe.js';
import { InvalidArgumentError } from './errors.js';
import type { Span } from './span.js';
import type { SpanOptions } from './types.js';

/*
 * Running a function inside a span: active while it runs, finished when it
 * returns or its promise settles, marked with what it throws. withSpan and
 * @traced both come here.
 */

/** The shared runtime, held here so the check below is one property read (an import is read through its module each time). */
const shared = runtime;

/** Runs `fn(span)` with `span` active and finishes the span when `fn` is done. */
export function runSpan<R>(span: Span, fn: (span: Span) => R, ignored: ((error: unknown) => boolean) | undefined): R {
  let result: R;
  try {
    // storage.run directly, as runWithActive does, minus its rest-parameter array: every withSpan comes here.
    // Without a bridge (no carriers) the span is the store; the one check that costs.
    result = storage.run((shared.carriers as number) > 0 ? carried(span) : span, fn, span);
  } catch (error) {
    failSpan(span, error, ignored);
    throw error;
  }
  // Outside the span's run: the callbacks that finish it belong to the caller, not to the span they end.
  return finishWhenSettled(span, result, ignored);
}

/** Finishes `span` now, or when `result` (a promise) settles; returns what the caller should get. */
export function finishWhenSettled<R>(span: Span, result: R, ignored: ((error: unknown) => boolean) | undefined): R {
  // Only real promises: a thenable such as a query builder would run (again) if we called its then().
  if (isPromise(result)) {
    // A span that no longer records (unsampled, or finished already) has nothing to do when the promise settles:
    // hand the promise back as it is. Chaining a then() would cost an unsampled span as much as the rest of it.
    if (!span.isRecording) return result;
    return (result as unknown as PromiseLike<unknown>).then(
      (value) => {
        span.finish();
        return value;
      },
      (error: unknown) => {
        failSpan(span, error, ignored);
        throw error;
      },
    ) as R;
  }
  span.finish();
  return result;
}

/** Records `error` on `span` (unless ignored) and finishes it. */
export function failSpan(span: Span, error: unknown, ignored: ((error: unknown) => boolean) | undefined): void {
  try {
    if (ignored === undefined || !ignored(error)) span.setError(error);
  } catch (inner) {
    if (debug.enabled) debug('ignoredErrors predicate threw: %s', String(inner));
    span.setError(error);
  }
  span.finish();
}

/**
 * Splits the `(name, opts, fn)` / `(name, fn)` argument forms of withSpan,
 * throwing an error that says what to fix: a missing name (`withSpan(fn)`)
 * is told as such, not as a missing function.
 */
export function splitArgs<R>(
  name: unknown,
  optsOrFn: SpanOptions | undefined | ((span: Span) => R),
  maybeFn: ((span: Span) => R) | undefined,
  where: string,
): [SpanOptions | undefined, (span: Span) => R] {
  // Other names are made text, as startSpan makes them; a function there is a name left out.
  if (typeof name === 'function') {
    throw new InvalidArgumentError(`ziptrace: ${where}(name, [options], fn): the span's name is missing: it comes first, as in ${where}('load user', fn)`);
  }
  if (typeof optsOrFn === 'function') return [undefined, optsOrFn];
  if (typeof maybeFn !== 'function') {
    throw new InvalidArgumentError(`ziptrace: ${where}(name, [options], fn): fn must be a function, got ${describe(maybeFn ?? optsOrFn)}`);
  }
  return [optsOrFn, maybeFn];
}

