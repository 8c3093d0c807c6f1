/**
 * The shapes every part of ziptrace shares: trace contexts, endpoints, the
 * Zipkin v2 span that reporters receive, and the reporter contract.
 *
 * This file holds types only, so any module may import it without pulling
 * code along.
 */

/** What a span does, in Zipkin's terms. Absent means a local (in-process) span. */
export type SpanKind = 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';

/** Where a trace context came from: made here, or extracted from a header format. */
export type ContextSource = 'local' | 'b3' | 'b3-single' | 'w3c' | (string & {});

/**
 * The identity of one span and the sampling decision of its trace.
 *
 * One type for spans, `joinSpan`, and header propagation. Plain objects of this
 * shape are accepted wherever a context is taken; ziptrace never mutates one.
 */
export interface TraceContext {
  /** 32 (128-bit) or 16 (64-bit) lower-case hex characters. */
  readonly traceId: string;
  /** 16 lower-case hex characters. */
  readonly spanId: string;
  /** The parent span's id, absent for a root span. */
  readonly parentId?: string | undefined;
  /** `true` record, `false` do not, `undefined` the decision is deferred. */
  readonly sampled?: boolean | undefined;
  /** Debug forces sampling and asks the backend to keep the trace. */
  readonly debug: boolean;
  /** `true` when this span id is shared with the remote caller (Zipkin's joined server span). */
  readonly shared: boolean;
  /** W3C `tracestate`, passed on unchanged by every span of the trace. */
  readonly tracestate?: string | undefined;
  /** The header format the trace came in through; `'local'` or absent when made here. Children inherit it. */
  readonly source?: ContextSource | undefined;
  /** The trace id is known to be random (W3C's random flag): true for ids made here. Children inherit it. */
  readonly random?: boolean | undefined;
}

/**
 * A sampling decision that came without ids (a `b3: 0` header): the next span
 * starts a new trace with this decision.
 */
export interface SamplingFlags {
  readonly traceId?: undefined;
  readonly spanId?: undefined;
  readonly sampled?: boolean | undefined;
  readonly debug: boolean;
  readonly source?: ContextSource | undefined;
}

/** What extraction finds: a full context, or only a sampling decision. */
export type ExtractedContext = TraceContext | SamplingFlags;

/** A network endpoint as Zipkin v2 has it. */
export interface Endpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

/** Address part of an endpoint, for `createEndpoint` and `span.remoteEndpoint`. */
export interface EndpointAddress {
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

/** One timestamped event inside a span. */
export interface ZipkinAnnotation {
  /** Epoch microseconds. */
  timestamp: number;
  value: string;
}

/**
 * A finished span in Zipkin v2 form, exactly as it is sent to the backend
 * (`POST /api/v2/spans` takes a JSON list of these). Optional fields are
 * absent, never `null`.
 */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: SpanKind;
  /** Epoch microseconds. */
  timestamp?: number;
  /** Microseconds, at least 1. */
  duration?: number;
  localEndpoint?: Endpoint;
  remoteEndpoint?: Endpoint;
  annotations?: ZipkinAnnotation[];
  tags?: Record<string, string>;
  debug?: true;
  shared?: true;
}

/**
 * Where finished spans go.
 *
 * `report` is called synchronously when a sampled span finishes, with that
 * span's Zipkin v2 object. It must not block: queue and return. Whatever it
 * throws is caught and counted, never passed to the traced code.
 */
export interface Reporter {
  report(span: ZipkinSpan): void;
  /**
   * Optional, for reporters that only need the bytes: when present, the
   * tracer calls it instead of `report` with the finished span already
   * encoded as one Zipkin v2 JSON object, the same text that `encodeSpan`
   * gives for the object `report` would get. The tracer then builds no span
   * object for this reporter. (`HttpReporter` and `OtlpReporter` have it, and
   * the tracer gives them the span to write into their queue's bytes
   * instead, unless a subclass overrides it.)
   */
  reportJson?(json: string): void;
  /** Sends what is queued. */
  flush?(): Promise<void>;
  /** Flushes and stops, within `timeout` milliseconds. */
  close?(options?: { timeout?: number }): Promise<void>;
  /** Counts of what the reporter sent, holds and dropped (`HttpReporter`'s are `HttpReporterStats`). */
  stats?(): object;
}

/** What a custom sampler is asked about a new root (or a context with no decision). */
export interface SamplingRequest {
  traceId: string;
  name: string;
  kind: SpanKind | undefined;
  tags: Readonly<Record<string, unknown>> | undefined;
  /** The context being joined or continued, when it carried no decision. */
  parent: TraceContext | undefined;
}

/** `true` to sample, `false` not to, `undefined` to defer to `sampleRate`. */
export type Sampler = (request: SamplingRequest) => boolean | undefined;

/** Epoch microseconds, or a `Date`. */
export type Timestamp = number | Date;

/** Tag values: strings, numbers, booleans, or objects (as JSON). `null` and `undefined` are ignored. */
export type TagValue = string | number | boolean | bigint | object | null | undefined;

/** Anything that carries a context: a span (`span.context`), or an object of that shape. */
export interface HasContext {
  /** The context this object stands for. */
  readonly context: ExtractedContext;
}

/**
 * Options of every span maker: `startSpan`, `withSpan`, `newTrace`,
 * `newChild` and `joinSpan` take the same ones.
 */
export interface SpanOptions {
  /** What the span does; absent for a local span. */
  kind?: SpanKind;
  /** Tags to set at the start. */
  tags?: Readonly<Record<string, TagValue>>;
  /** The other side of a CLIENT, SERVER, PRODUCER or CONSUMER span (from `createEndpoint`). */
  remoteEndpoint?: Endpoint;
  /**
   * Start time: epoch microseconds (`Date.now() * 1000`) or a Date. Default
   * now. A number that cannot be epoch microseconds (milliseconds from
   * `Date.now()`, seconds) throws an `InvalidTimestampError`.
   */
  timestamp?: Timestamp;
  /**
   * The parent: a context or span; `null` for a new root. Default: the active
   * span. A bare decision starts a new trace with it. (`startSpan` and
   * `withSpan` only: the aiozipkin calls say their parent by what they are.)
   */
  parent?: ExtractedContext | HasContext | null;
}
