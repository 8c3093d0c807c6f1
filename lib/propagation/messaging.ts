import { contextOf } from '../trace-context.js';
import type { ExtractedContext, HasContext } from '../types.js';
import { B3SinglePropagator } from './b3.js';
import { CompositePropagator } from './composite.js';
import { defaultGetter, defaultSetter, type Getter, type Setter } from './carrier.js';
import { W3CPropagator } from './w3c.js';

/*
 * Messages (Kafka, AMQP, SQS attributes) carry the single `b3` header, without
 * the parent id as Brave writes it, plus `traceparent`: one or two small
 * headers instead of five. A consumer always starts a child of the producer's
 * span (never a join): a message may be consumed many times, long after.
 */
const single = new B3SinglePropagator({ withParent: false });
const w3c = new W3CPropagator();
const reader = new CompositePropagator({ extract: ['b3-single', 'w3c', 'b3'], inject: [] });

/** Writes a PRODUCER span's context into message headers: `b3` and `traceparent`. */
export function injectMessage(context: ExtractedContext | HasContext, headers: unknown, setter: Setter = defaultSetter): void {
  const ctx = contextOf(context);
  if (ctx === undefined) return;
  single.inject(ctx, headers, setter);
  w3c.inject(ctx, headers, setter);
}

/**
 * Reads a producer's context from message headers (`Buffer` values are fine),
 * for a CONSUMER span: `tracer.startSpan('process', { kind: 'CONSUMER', parent })`.
 */
export function extractMessage(headers: unknown, getter: Getter = defaultGetter): ExtractedContext | undefined {
  return reader.extract(headers, getter);
}
