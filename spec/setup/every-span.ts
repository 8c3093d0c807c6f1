// Runs in every test worker before the specs (vitest setupFiles): every span
// any MemoryReporter or the test collector receives, in any spec, is checked against the Zipkin v2
// schema (ziptrace's own always, Zipkin's official one where ../shared has
// it) after each test. A spec that tests something else still cannot let an
// invalid span through unseen.
import { afterAll, afterEach, expect } from 'vitest';
import { MemoryReporter, type ZipkinSpan } from '../../lib/index.js';
import { takeInvalidBodies } from '../helpers/collector.js';
import { zipkinSpanSchemaErrors } from '../helpers/zipkin-schema.js';

const received: ZipkinSpan[] = [];
const report = MemoryReporter.prototype.report;
MemoryReporter.prototype.report = function (this: MemoryReporter, span: ZipkinSpan): void {
  received.push(span);
  report.call(this, span);
};

afterEach(() => {
  const spans = received.splice(0);
  if (spans.length > 0) expect(zipkinSpanSchemaErrors(spans), 'a span a MemoryReporter received is not a valid Zipkin v2 span').toEqual([]);
  // And every body the test collector (spec/helpers/collector.ts) was sent.
  expect(takeInvalidBodies(), 'a body the test collector received is not a list of valid Zipkin v2 spans').toEqual([]);
});

// A body that arrives after its test's afterEach (a reporter flushing late) is still checked, at the file's end.
afterAll(() => {
  expect(takeInvalidBodies(), 'a body the test collector received late is not a list of valid Zipkin v2 spans').toEqual([]);
});
