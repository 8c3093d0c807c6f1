import { epochMicrosAt, monotonicMillis, timestampProblem, toMicros } from './clock.js';
import { debug } from './debug.js';
import { describe } from './describe.js';
import { buildEndpoint } from './endpoint.js';
import { newTraceId, rootSpanId } from './ids.js';
import { sampledByRate } from './sampling.js';
import { LOCAL_SOURCE, makeContext, SHAPE_CONTEXT } from './trace-context.js';
import { SPAN_KINDS } from './span-options.js';
import { cutText, errorMessage, tagString } from './values.js';
import type { Endpoint, EndpointAddress, SpanKind, TagValue, Timestamp, TraceContext, ZipkinAnnotation } from './types.js';

/**
 * A timed piece of work. Setters are chainable, do nothing once the span has
 * finished, and never throw.
 */
export interface Span {
  /** The span's ids and sampling decision, for propagation and for `newChild`. */
  readonly context: TraceContext;
  /** The tracer that made the span (undefined for the no-op span used when no tracer exists). */
  readonly tracer: unknown;
  /** True while the span records: sampled and not finished yet. */
  readonly isRecording: boolean;
  /** Renames the span. */
  name(name: string): this;
  /** Sets a tag; numbers and booleans become strings, objects JSON; null and undefined are ignored. */
  tag(key: string, value: TagValue): this;
  /** Sets the span's kind; `undefined` makes it a local span again. */
  kind(kind: SpanKind | undefined): this;
  /** Adds a timestamped event (now, unless `timestamp` is given in epoch microseconds or as a Date). */
  annotate(value: string, timestamp?: Timestamp): this;
  /** Names the other side of a CLIENT, SERVER, PRODUCER or CONSUMER span. */
  remoteEndpoint(serviceName: string | undefined, address?: EndpointAddress): this;
  /** Records an error: Zipkin's `error` tag with the error's message. */
  setError(error: unknown): this;
  /** Ends the span (now, unless a timestamp is given) and reports it. A second call does nothing. */
  finish(timestamp?: Timestamp): void;
  /** `using span = startSpan('x')` finishes the span at the end of the block. */
  [Symbol.dispose](): void;
}

/** Caps that keep a span's size bounded whatever the code does with it. */
export interface SpanLimits {
  /** Tags per span; further new keys are dropped and counted. Default 128. */
  maxTags: number;
  /** Annotations per span; further ones are dropped and counted. Default 128. */
  maxAnnotations: number;
  /** Characters in a tag value or annotation; longer ones are cut and end in `…`. Default 4096. */
  maxValueLength: number;
  /** Characters in a span name or tag key. Default 256. */
  maxNameLength: number;
}

/** The limits a tracer uses unless `createTracer({ limits })` changes some. */
export const DEFAULT_LIMITS: Readonly<SpanLimits> = Object.freeze({
  maxTags: 128,
  maxAnnotations: 128,
  maxValueLength: 4096,
  maxNameLength: 256,
});

/** Counts the tracer keeps about what it cut, dropped and failed at. */
export interface SpanCounters {
  droppedTags: number;
  droppedAnnotations: number;
  truncatedValues: number;
  invalidValues: number;
}

/** What a recording span needs from its tracer: limits, counters, and where to go when finished. */
export interface SpanSink {
  readonly limits: SpanLimits;
  readonly counters: SpanCounters;
  spanFinished(span: RecordingSpan): void;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** A sampled span: it keeps what is set on it until it finishes, then goes to its tracer's reporters. */
export class RecordingSpan implements Span {
  readonly context: TraceContext;
  readonly tracer: unknown;
  /** @internal Read by the encoder; the fields below are internal and not part of the API. */
  _name: string;
  /** @internal */ _kind: SpanKind | undefined = undefined;
  /** @internal */ _timestamp: number;
  /** @internal */ _duration = 0;
  /** @internal */ _tags: Record<string, string> | undefined = undefined;
  /** @internal */ _tagCount = 0;
  /** @internal */ _annotations: ZipkinAnnotation[] | undefined = undefined;
  /** @internal */ _remote: Endpoint | undefined = undefined;
  /** @internal */ _droppedTags = 0;
  /** @internal */ _droppedAnnotations = 0;
  /** @internal */ private _startPerf: number;
  /** @internal */ private _explicitStart: boolean;
  /** @internal */ private _finished = false;
  /** @internal */ private readonly _sink: SpanSink;

  /** `startMicros`: the start the caller asked for (checked by the tracer), or undefined for now. */
  constructor(sink: SpanSink, tracer: unknown, context: TraceContext, name: string, startMicros: number | undefined) {
    this._sink = sink;
    this.tracer = tracer;
    this.context = context;
    this._name = this._cutName(name);
    this._startPerf = monotonicMillis();
    this._explicitStart = startMicros !== undefined;
    this._timestamp = startMicros ?? epochMicrosAt(this._startPerf);
  }

  get isRecording(): boolean {
    return !this._finished;
  }

  /*
   * Every setter catches what its input throws (a revoked Proxy, a getter
   * that throws): a span never throws into the code it measures.
   */

  name(name: string): this {
    if (this._finished) return this;
    if (typeof name !== 'string') {
      this._invalid('span.name ignored a %s: names are strings', typeof name);
      return this;
    }
    try {
      this._name = this._cutName(name);
    } catch (error) {
      ignored('name', error);
    }
    return this;
  }

  tag(key: string, value: TagValue): this {
    if (this._finished) return this;
    try {
      this._tag(key, value);
    } catch (error) {
      ignored('tag', error);
    }
    return this;
  }

  /** @internal */
  private _tag(key: string, value: TagValue): void {
    if (typeof key !== 'string' || key.length === 0) {
      this._invalid('span.tag ignored a tag whose key is not a non-empty string: %s', typeof key === 'string' ? 'an empty string' : typeof key);
      return;
    }
    let text = tagString(value);
    if (text === undefined) return;
    const limits = this._sink.limits;
    if (key.length > limits.maxNameLength) key = this._cut(key, limits.maxNameLength);
    // A plain object, not Object.create(null): V8 keeps prototype-less objects in
    // its slow dictionary mode, and every tag would pay for that up to the encoder.
    let tags = this._tags;
    if (tags === undefined) tags = this._tags = {};
    if (!hasOwn.call(tags, key)) {
      // The error tag is what marks a failed span: it is never the one dropped.
      if (this._tagCount >= limits.maxTags && key !== 'error') {
        this._droppedTags++;
        this._sink.counters.droppedTags++;
        return;
      }
      this._tagCount++;
    }
    if (text.length > limits.maxValueLength) text = this._cut(text, limits.maxValueLength);
    // "__proto__" from request data is just a key: define it rather than set the prototype.
    if (key === '__proto__') Object.defineProperty(tags, key, { value: text, enumerable: true, writable: true, configurable: true });
    else tags[key] = text;
  }

  kind(kind: SpanKind | undefined): this {
    if (this._finished) return this;
    if (kind === undefined || SPAN_KINDS.has(kind)) this._kind = kind;
    else this._invalid('span.kind ignored %s: use CLIENT, SERVER, PRODUCER or CONSUMER', describe(kind));
    return this;
  }

  annotate(value: string, timestamp?: Timestamp): this {
    if (this._finished) return this;
    try {
      this._annotate(value, timestamp);
    } catch (error) {
      ignored('annotate', error);
    }
    return this;
  }

  /** @internal */
  private _annotate(value: string, timestamp: Timestamp | undefined): void {
    const limits = this._sink.limits;
    let annotations = this._annotations;
    if (annotations === undefined) annotations = this._annotations = [];
    if (annotations.length >= limits.maxAnnotations) {
      this._droppedAnnotations++;
      this._sink.counters.droppedAnnotations++;
      return;
    }
    let text = typeof value === 'string' ? value : (tagString(value) ?? '');
    if (text.length > limits.maxValueLength) text = this._cut(text, limits.maxValueLength);
    let at = timestamp === undefined ? undefined : toMicros(timestamp);
    if (at === undefined) {
      if (timestamp !== undefined) this._invalid('span.annotate used now for a timestamp that %s', timestampProblem(timestamp));
      at = epochMicrosAt(monotonicMillis());
    }
    // Zipkin keeps one of two equal (timestamp, value) pairs: move a repeat by a microsecond so both survive.
    for (let i = annotations.length - 1; i >= 0; i--) {
      const other = annotations[i]!;
      if (other.timestamp === at && other.value === text) {
        at++;
        i = annotations.length;
      }
    }
    annotations.push({ timestamp: at, value: text });
  }

  remoteEndpoint(serviceName: string | undefined, address?: EndpointAddress): this {
    if (this._finished) return this;
    try {
      const problems: string[] = [];
      const endpoint = buildEndpoint(serviceName, address, problems);
      // The valid parts are kept; each invalid one is counted, as every setter counts what it ignores.
      for (const problem of problems) this._invalid('span.remoteEndpoint ignored a part: %s', problem);
      this._remote = Object.keys(endpoint).length > 0 ? endpoint : undefined;
    } catch (error) {
      ignored('remoteEndpoint', error);
    }
    return this;
  }

  /**
   * @internal Sets a remote endpoint that is already checked and frozen (a server's per-socket one, shared by
   * the spans of the socket's requests, as the local endpoint is shared by all): no copy, and the encoder
   * remembers a frozen endpoint's JSON.
   */
  _setCheckedRemote(endpoint: Readonly<Endpoint>): void {
    if (!this._finished) this._remote = endpoint;
  }

  /** @internal Sets the remote endpoint from a ready-made `Endpoint` (used by `startSpan({ remoteEndpoint })`). */
  _setRemote(endpoint: Endpoint): void {
    this.remoteEndpoint(endpoint.serviceName, endpoint);
  }

  setError(error: unknown): this {
    return this.tag('error', errorMessage(error));
  }

  finish(timestamp?: Timestamp): void {
    if (this._finished) return;
    this._finished = true;
    const end = timestamp === undefined ? undefined : toMicros(timestamp);
    if (end === undefined && timestamp !== undefined) this._invalid('span.finish used now for a timestamp that %s', timestampProblem(timestamp));
    let duration: number;
    if (end !== undefined) duration = end - this._timestamp;
    else if (this._explicitStart) duration = epochMicrosAt(monotonicMillis()) - this._timestamp;
    else duration = Math.round((monotonicMillis() - this._startPerf) * 1000);
    this._duration = duration >= 1 ? duration : 1;
    this._sink.spanFinished(this);
  }

  [Symbol.dispose](): void {
    this.finish();
  }

  /** @internal Counts a value a setter ignored (a setter never throws); says why under NODE_DEBUG=ziptrace. */
  private _invalid(format: string, detail: string): void {
    this._sink.counters.invalidValues++;
    if (debug.enabled) debug(format, detail);
  }

  /** @internal */
  private _cutName(name: unknown): string {
    const text = typeof name === 'string' ? name : (tagString(name) ?? '');
    const max = this._sink.limits.maxNameLength;
    return text.length > max ? this._cut(text, max) : text;
  }

  /** @internal */
  private _cut(text: string, max: number): string {
    this._sink.counters.truncatedValues++;
    return cutText(text, max);
  }
}

function ignored(setter: string, error: unknown): void {
  if (debug.enabled) debug('span.%s ignored a value that threw: %s', setter, errorMessage(error));
}

/**
 * A span that records nothing: unsampled, or made without a tracer. Its
 * context still flows, so children and outgoing headers carry the decision.
 */
export class NonRecordingSpan implements Span {
  readonly tracer: unknown;
  /** @internal */ private _context: TraceContext | undefined;
  /** @internal */ private readonly _bits128: boolean;
  /** @internal The sample rate that left the trace unsampled before it had ids, or undefined when no rate decided. */
  private readonly _rate: number | undefined;

  /**
   * `context` undefined: a new unsampled root whose ids are made the first
   * time something reads them (a child, an outgoing header). Most unsampled
   * spans are never asked, and the ids were most of what they cost. `rate`:
   * the sample rate that decided the trace unsampled (sampledTraceId in
   * lib/ids.ts); its trace id is then one that rate does not sample, so that
   * every service deciding on the id by the same rate agrees.
   */
  constructor(tracer: unknown, context: TraceContext | undefined, traceId128Bit = true, rate?: number) {
    this.tracer = tracer;
    this._context = context;
    this._bits128 = traceId128Bit;
    this._rate = rate;
  }

  get context(): TraceContext {
    if (this._context === undefined) {
      let traceId = newTraceId(this._bits128);
      // Drawn again while the rate would sample it: the tracer only leaves such traces to this at rates of at most
      // one half, so it takes two draws at most on average. The ids drawn are then as random as any unsampled trace's.
      if (this._rate !== undefined) while (sampledByRate(traceId, this._rate)) traceId = newTraceId(this._bits128);
      this._context = makeContext(traceId, rootSpanId(traceId), undefined, false, false, false, undefined, LOCAL_SOURCE, true);
    }
    return this._context;
  }

  get isRecording(): boolean {
    return false;
  }
  name(): this {
    return this;
  }
  tag(): this {
    return this;
  }
  kind(): this {
    return this;
  }
  annotate(): this {
    return this;
  }
  remoteEndpoint(): this {
    return this;
  }
  setError(): this {
    return this;
  }
  finish(): void {}
  [Symbol.dispose](): void {}
}

/**
 * @internal One span of each class for as long as this module lives, for the reason
 * SHAPE_CONTEXT exists (lib/trace-context.ts): otherwise a full collection
 * that finds no span alive frees the classes' maps, and with them the
 * optimized code of everything that makes, tags, finishes or encodes spans.
 * Their sink drops what they would report; nothing ever reaches them.
 * Exported to be held, as SHAPE_CONTEXT is.
 */
export const SHAPE_SPANS: readonly Span[] = [new RecordingSpan(shapeSink(), undefined, SHAPE_CONTEXT, '', undefined), new NonRecordingSpan(undefined, SHAPE_CONTEXT)];

/** The sink of SHAPE_SPANS: limits as a tracer's, counts nobody reads, and nothing reported. */
function shapeSink(): SpanSink {
  return { limits: DEFAULT_LIMITS, counters: { droppedTags: 0, droppedAnnotations: 0, truncatedValues: 0, invalidValues: 0 }, spanFinished() {} };
}
