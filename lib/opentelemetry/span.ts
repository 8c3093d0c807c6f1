/**
 * A ziptrace span seen as an OpenTelemetry `Span`. Spans the bridge's tracer
 * starts are these; so is any ziptrace span OpenTelemetry code finds active
 * (`trace.getActiveSpan()` inside `withSpan`). One view per span, so the
 * active span is the same object however often it is asked for.
 *
 * The mapping: attributes become tags (numbers and booleans as text, arrays
 * as JSON); an event becomes an annotation at its time, its attributes as
 * JSON after the name; status `ERROR` sets the `error` tag to its message
 * (or `true` when it has none, as a Zipkin error tag without detail reads);
 * `recordException` sets the `error` tag to the exception's message and adds
 * an `exception` annotation; links are dropped (Zipkin has none); `end(time)`
 * finishes at that time.
 */
import type { Span } from '../span.js';
import { errorMessage } from '../values.js';
import { api, type Attributes, type AttributeValue, type Exception, type Link, type OtelSpan, type SpanContext, type SpanStatus, type TimeInput } from './api.js';
import { toSpanContext } from './span-context.js';
import { toEpochMicros } from './time.js';

const views = new WeakMap<object, BridgeSpan>();

/** The OpenTelemetry view of a ziptrace span (made once per span). */
export function otelSpanOf(span: Span): BridgeSpan {
  let view = views.get(span);
  if (view === undefined) views.set(span, (view = new BridgeSpan(span, false)));
  return view;
}

/** The OpenTelemetry view of a context that came in from elsewhere (headers): `isRemote`, never recording. */
export function remoteOtelSpan(span: Span): BridgeSpan {
  const view = new BridgeSpan(span, true);
  views.set(span, view);
  return view;
}

/** Whether `value` is one of the bridge's views, and so stands for a ziptrace span. */
export function isBridgeSpan(value: unknown): value is BridgeSpan {
  return value instanceof BridgeSpan;
}

/** An OpenTelemetry `Span` whose every call goes to a ziptrace span. */
export class BridgeSpan implements OtelSpan {
  /** The ziptrace span this stands for. */
  readonly span: Span;
  /** True for a context extracted from headers: OpenTelemetry's `isRemote`. */
  readonly remote: boolean;
  /** @internal OpenTelemetry: once OK, a status is final. */
  private _statusFinal = false;
  /** @internal Made on first ask: most spans are never asked. */
  private _spanContext: SpanContext | undefined;

  /** Use {@link otelSpanOf}: one view per span. */
  constructor(span: Span, remote: boolean) {
    this.span = span;
    this.remote = remote;
  }

  spanContext(): SpanContext {
    return (this._spanContext ??= toSpanContext(this.span.context, this.remote));
  }

  setAttribute(key: string, value: AttributeValue): this {
    this.span.tag(key, value);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    forEachAttribute(attributes, (key, value) => this.span.tag(key, value));
    return this;
  }

  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, startTime?: TimeInput): this {
    let attributes: Attributes | undefined;
    if (isTimeInput(attributesOrStartTime)) startTime = attributesOrStartTime;
    else attributes = attributesOrStartTime;
    this.span.annotate(eventText(name, attributes), toEpochMicros(startTime));
    return this;
  }

  /** Zipkin spans have no links: dropped. */
  addLink(_link: Link): this {
    return this;
  }

  /** Zipkin spans have no links: dropped. */
  addLinks(_links: Link[]): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this._statusFinal || status === null || typeof status !== 'object') return this;
    if (status.code === api.SpanStatusCode.OK) this._statusFinal = true;
    else if (status.code === api.SpanStatusCode.ERROR) this.span.tag('error', typeof status.message === 'string' && status.message.length > 0 ? status.message : 'true');
    return this;
  }

  updateName(name: string): this {
    this.span.name(name);
    return this;
  }

  end(endTime?: TimeInput): void {
    this.span.finish(toEpochMicros(endTime));
  }

  isRecording(): boolean {
    return this.span.isRecording;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    if (!this.span.isRecording) return;
    const message = errorMessage(exception);
    const type = exception !== null && typeof exception === 'object' ? (exception as { name?: unknown }).name : undefined;
    // The status decides the error tag when one was set OK; an exception alone still marks the span failed.
    if (!this._statusFinal) this.span.setError(exception);
    this.span.annotate(eventText('exception', typeof type === 'string' ? { 'exception.type': type, 'exception.message': message } : { 'exception.message': message }), toEpochMicros(time));
  }
}

/** An annotation's text: the event's name, then its attributes as JSON when it has some. */
function eventText(name: string, attributes: Attributes | undefined): string {
  const text = typeof name === 'string' ? name : String(name);
  if (attributes === undefined || attributes === null || typeof attributes !== 'object' || Object.keys(attributes).length === 0) return text;
  try {
    return `${text} ${JSON.stringify(attributes)}`;
  } catch {
    return text;
  }
}

function isTimeInput(value: unknown): value is TimeInput {
  return typeof value === 'number' || value instanceof Date || (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number');
}

/**
 * Calls `use` with each of `attributes`' own keys and values. An attribute
 * whose getter throws is skipped, and a whole object that cannot even list
 * its keys (a hostile Proxy) gives none: OpenTelemetry's API never throws
 * into the code that calls it.
 */
export function forEachAttribute(attributes: unknown, use: (key: string, value: AttributeValue | undefined) => void): void {
  if (attributes === null || typeof attributes !== 'object') return;
  let keys: string[];
  try {
    keys = Object.keys(attributes);
  } catch {
    return;
  }
  for (const key of keys) {
    let value: AttributeValue | undefined;
    try {
      value = (attributes as Attributes)[key];
    } catch {
      continue;
    }
    use(key, value);
  }
}

/**
 * The span the bridge's tracer gives OpenTelemetry's undici and http
 * instrumentations for a CLIENT span while ziptrace's own client
 * instrumentation traces the same requests (`runtime.clients`): it records
 * nothing and its span context is invalid, so the propagator injects nothing
 * for it; ziptrace's own CLIENT span and headers stand alone. Made active
 * (instrumentation-http runs the request in a Context holding it), it stands
 * for its parent, so ziptrace's client still finds the span it is a child of.
 */
export class StandAsideSpan implements OtelSpan {
  /** The span active where it was started, which it stands for when active; undefined for none. */
  readonly parent: OtelSpan | undefined;

  constructor(parent: OtelSpan | undefined) {
    this.parent = parent;
  }

  spanContext(): SpanContext {
    return api.INVALID_SPAN_CONTEXT;
  }
  setAttribute(_key: string, _value: AttributeValue): this {
    return this;
  }
  setAttributes(_attributes: Attributes): this {
    return this;
  }
  addEvent(_name: string, _attributesOrStartTime?: Attributes | TimeInput, _startTime?: TimeInput): this {
    return this;
  }
  addLink(_link: Link): this {
    return this;
  }
  addLinks(_links: Link[]): this {
    return this;
  }
  setStatus(_status: SpanStatus): this {
    return this;
  }
  updateName(_name: string): this {
    return this;
  }
  end(_endTime?: TimeInput): void {}
  isRecording(): boolean {
    return false;
  }
  recordException(_exception: Exception, _time?: TimeInput): void {}
}

/** The span `span` stands for: its parent for a {@link StandAsideSpan}, else itself. */
export function standingFor(span: OtelSpan | undefined): OtelSpan | undefined {
  return span instanceof StandAsideSpan ? span.parent : span;
}
