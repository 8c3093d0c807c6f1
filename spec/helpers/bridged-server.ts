/**
 * The set-up the OpenTelemetry bridge's instrumentation specs share: a
 * ziptrace tracer with a MemoryReporter, registered with the bridge, real
 * `@opentelemetry/instrumentation-*` instrumentations registered against it,
 * and a loopback server traced by ziptrace's own `tracedHandler`. Registered
 * for the calling spec file with beforeAll/afterAll; the reporter is cleared
 * after each test.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { MemoryReporter, Tracer } from '../../lib/index.js';
import { tracedHandler } from '../../lib/http.js';
import { registerOpenTelemetry } from '../../lib/opentelemetry.js';
import { memoryTracer } from './tracing.js';

/** What the spec uses once beforeAll has run (read its fields inside tests, not at module level). */
export interface BridgedServer {
  tracer: Tracer;
  reporter: MemoryReporter;
  /** The loopback server's port. */
  port: number;
}

/** Sets it all up for the calling file: `instrumentations()` is called in beforeAll, `handle` answers the server's requests. */
export function bridgedServer(serviceName: string, instrumentations: () => Instrumentation[], handle: http.RequestListener): BridgedServer {
  const state = {} as BridgedServer;
  let undo: () => void;
  let unregister: () => void;
  let server: http.Server;
  beforeAll(async () => {
    ({ tracer: state.tracer, reporter: state.reporter } = memoryTracer(serviceName, { global: false }));
    undo = registerOpenTelemetry(state.tracer);
    unregister = registerInstrumentations({ tracerProvider: trace.getTracerProvider(), instrumentations: instrumentations() });
    server = http.createServer(tracedHandler(state.tracer, handle));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    state.port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    unregister();
    undo();
    await new Promise((resolve) => server.close(resolve));
  });
  afterEach(() => state.reporter.clear());
  return state;
}
