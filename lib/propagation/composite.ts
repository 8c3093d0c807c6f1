import { InvalidOptionError } from '../errors.js';
import type { ExtractedContext, TraceContext } from '../types.js';
import { B3MultiPropagator, B3SinglePropagator } from './b3.js';
import { defaultGetter, defaultSetter, doneReading, holdsNoTraceHeader, INVALID, readerFor, readsDirectly, type Getter, type Setter } from './carrier.js';
import type { Propagator } from './propagator.js';
import { RANDOM_FLAG, readTraceparent, readTracestate, traceparentFlags, W3CPropagator } from './w3c.js';
import { contextWith, isValidContext } from '../trace-context.js';
import { isTraceId } from '../ids.js';

/** The built-in header formats. */
export type PropagationFormat = 'b3' | 'b3-single' | 'w3c';

/** Options of {@link CompositePropagator}, and of `createTracer({ propagation })`. */
export interface PropagationOptions {
  /** Formats read, the first valid one winning. Default `['b3-single', 'b3', 'w3c']`. */
  extract?: readonly (PropagationFormat | Propagator)[];
  /** Formats written. Default `['b3', 'w3c']`. */
  inject?: readonly (PropagationFormat | Propagator)[];
}

const DEFAULT_EXTRACT: readonly PropagationFormat[] = ['b3-single', 'b3', 'w3c'];
const DEFAULT_INJECT: readonly PropagationFormat[] = ['b3', 'w3c'];

/** A built-in propagator by name; throws a TypeError naming the formats for anything else. */
export function propagatorFor(format: PropagationFormat | Propagator, where: string): Propagator {
  if (typeof format === 'object' && format !== null && typeof format.inject === 'function' && typeof format.extract === 'function') return format;
  switch (format) {
    case 'b3':
      return new B3MultiPropagator();
    case 'b3-single':
      return new B3SinglePropagator();
    case 'w3c':
      return new W3CPropagator();
    default:
      throw new InvalidOptionError(`ziptrace: ${where}: expected 'b3', 'b3-single', 'w3c' or a propagator with inject() and extract(), got ${typeof format === 'string' ? JSON.stringify(format) : typeof format}`);
  }
}

/**
 * Reads any of several formats, the first valid one in order, and writes
 * several at once. The default reads single `b3`, then B3 multi, then
 * `traceparent`, and writes B3 multi plus `traceparent`.
 *
 * When a B3 format wins, `tracestate` (and W3C's random flag) is kept only if
 * `traceparent` carries the same trace id: otherwise it belongs to some other trace.
 */
export class CompositePropagator implements Propagator {
  readonly fields: readonly string[];
  private readonly extractors: readonly Propagator[];
  private readonly injectors: readonly Propagator[];
  /** Every extractor is a built-in format named by a string: none finds anything in a carrier without a trace header. */
  private readonly builtInOnly: boolean;

  constructor(options: PropagationOptions = {}) {
    const extract = options.extract ?? DEFAULT_EXTRACT;
    const inject = options.inject ?? DEFAULT_INJECT;
    if (!Array.isArray(extract)) throw new InvalidOptionError('ziptrace: propagation.extract must be an array of formats');
    if (!Array.isArray(inject)) throw new InvalidOptionError('ziptrace: propagation.inject must be an array of formats');
    this.extractors = extract.map((f, i) => propagatorFor(f, `propagation.extract[${i}]`));
    this.builtInOnly = extract.every((f) => typeof f === 'string');
    this.injectors = inject.map((f, i) => propagatorFor(f, `propagation.inject[${i}]`));
    this.fields = [...new Set([...this.extractors, ...this.injectors].flatMap((p) => [...p.fields]))];
  }

  inject(context: ExtractedContext, carrier: unknown, setter: Setter = defaultSetter): void {
    for (const injector of this.injectors) injector.inject(context, carrier, setter);
  }

  extract(carrier: unknown, getter: Getter = defaultGetter): ExtractedContext | undefined {
    // Checked once here rather than by each format's extract.
    const get = readerFor(carrier, getter);
    const found = this.read(carrier, get);
    if (get !== getter) doneReading();
    return found;
  }

  /** @internal */
  private read(carrier: unknown, get: Getter): ExtractedContext | undefined {
    // Most requests carry no trace header at all (the edge of a system, a health check): the check of the
    // carrier saw that already, and the formats need not each look. A propagator of the app's may read
    // anything, so only built-in formats are skipped.
    if (this.builtInOnly && readsDirectly(get, carrier) && holdsNoTraceHeader()) return undefined;
    for (const extractor of this.extractors) {
      let found: ExtractedContext | undefined;
      try {
        found = extractor.extract(carrier, get);
      } catch {
        // A user's propagator that throws is a format that found nothing.
        continue;
      }
      if (found === undefined) continue;
      if (found.traceId !== undefined && found.source !== 'w3c') {
        return withTracestate(found as TraceContext, carrier, get);
      }
      return found;
    }
    return undefined;
  }
}

/*
 * What traceparent adds to a B3 context of the same trace. Its trace id is
 * compared with the B3 one as text rather than extracted and checked again:
 * the B3 id is already checked, so an equal one is valid.
 */
function withTracestate(context: TraceContext, carrier: unknown, get: Getter): TraceContext {
  // A user's propagator may give any trace id; only a valid one can be compared as text (ours are, by their class).
  if (!isValidContext(context) && !isTraceId((context as ExtractedContext).traceId)) return context;
  const value = readTraceparent(get, carrier);
  if (value === undefined || value === INVALID) return context;
  const flags = traceparentFlags(value, context.traceId);
  if (flags < 0) return context;
  // The same trace came as traceparent too: its tracestate, and its word that the id is random, hold.
  const tracestate = readTracestate(get, carrier);
  const random = context.random === true || (flags & RANDOM_FLAG) !== 0;
  return tracestate === undefined && random === context.random ? context : contextWith(context, tracestate, random);
}
