/**
 * Logs joined to traces, with the real loggers: pino with `mixin: logFields`
 * and winston with a one-line format. Every line written inside a span
 * carries its trace and span ids (across awaits and timers, nested spans
 * their own), and a line outside any span carries none.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import winston from 'winston';
import { describe, expect, it } from 'vitest';
import { currentIds, logFields, startSpan, withSpan } from '../lib/index.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

/** A writable that keeps each JSON line written to it. */
function lines(): { stream: Writable; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, records };
}

describe('currentIds', () => {
  it('is the active span\'s ids, and undefined outside a span', async () => {
    memoryTracer('billing');
    expect(currentIds()).toBeUndefined();
    await withSpan('outer', async (span) => {
      expect(currentIds()).toEqual({ traceId: span.context.traceId, spanId: span.context.spanId });
    });
    expect(currentIds()).toBeUndefined();
  });

  it('gives the ids of a sampled-out span too: its trace still crosses services', () => {
    const { tracer } = memoryTracer('billing', { sampleRate: 0 });
    const span = tracer.newTrace('unsampled');
    tracer.withActive(span, () => expect(currentIds()).toEqual({ traceId: span.context.traceId, spanId: span.context.spanId }));
    span.finish();
  });
});

describe('pino({ mixin: logFields })', () => {
  it('writes the ids on every line inside a span, nested spans their own, across awaits and timers; none outside', async () => {
    memoryTracer('billing');
    const { stream, records } = lines();
    const log = pino({ mixin: logFields }, stream);
    const expected: { traceId?: string; spanId?: string }[] = [];
    log.info('before');
    expected.push({});
    await withSpan('charge', async (outer) => {
      const ids = { traceId: outer.context.traceId, spanId: outer.context.spanId };
      log.info('inside');
      expected.push(ids);
      await sleep(1);
      log.info('after an await');
      expected.push(ids);
      await new Promise<void>((resolve) => setTimeout(() => {
        log.info('in a timer');
        expected.push(ids);
        resolve();
      }, 1));
      await withSpan('card network', async (inner) => {
        log.info('nested');
        expected.push({ traceId: outer.context.traceId, spanId: inner.context.spanId });
      });
      // A span started but not made active is not the one the line belongs to.
      const side = startSpan('side');
      log.info('beside a span that is not active');
      expected.push(ids);
      side.finish();
    });
    log.info('after');
    expected.push({});
    log.flush();
    expect(records.map((r) => ({ ...(r.traceId ? { traceId: r.traceId } : {}), ...(r.spanId ? { spanId: r.spanId } : {}) }))).toEqual(expected);
    expect(records.map((r) => r.msg)).toEqual(['before', 'inside', 'after an await', 'in a timer', 'nested', 'beside a span that is not active', 'after']);
  });

  it('adds nothing to a line outside a span: not even empty keys', () => {
    const { stream, records } = lines();
    pino({ mixin: logFields }, stream).info('plain');
    expect(Object.keys(records[0]!).sort()).toEqual(['hostname', 'level', 'msg', 'pid', 'time']);
  });
});

describe('winston with a logFields format', () => {
  it('writes the ids on lines inside a span, and none outside', async () => {
    memoryTracer('billing');
    const { stream, records } = lines();
    const withIds = winston.format((info) => Object.assign(info, logFields()));
    const logger = winston.createLogger({ format: winston.format.combine(withIds(), winston.format.json()), transports: [new winston.transports.Stream({ stream })] });
    logger.info('before');
    let ids = {};
    await withSpan('charge', async (span) => {
      ids = { traceId: span.context.traceId, spanId: span.context.spanId };
      await sleep(1);
      logger.info('inside', { cents: 1200 });
    });
    logger.info('after');
    await new Promise((resolve) => setImmediate(resolve));
    expect(records).toEqual([
      { level: 'info', message: 'before' },
      { level: 'info', message: 'inside', cents: 1200, ...ids },
      { level: 'info', message: 'after' },
    ]);
  });
});
