// The producer loop every library process of the reporting benchmark shares
// (bench/reporting-ziptrace.mjs, bench/reporting-opentelemetry.mjs). Driven by
// bench/reporting.mjs over IPC:
//   → { type: 'run', n }   make n spans, then flush; answer 'produced'
//   → { type: 'stop' }     the collector has every span: stop the clocks; answer 'result'
//   → { type: 'exit' }
// The clocks (wall and process CPU, all threads: gzip on libuv's pool and GC
// count) start before the first span and stop when 'stop' arrives, that is once
// the collector has counted the last span.
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';

/** Spans per request: OpenTelemetry's BatchSpanProcessor default (maxExportBatchSize), set in both. */
export const BATCH = 512;
/** Batch interval (ms), both: OpenTelemetry's scheduledDelayMillis, ziptrace's batchInterval. */
export const INTERVAL_MS = 1000;
/** OpenTelemetry's maxQueueSize default: spans waiting for export, the in-flight batch not counted. */
export const OTEL_QUEUE = 2048;
/**
 * ziptrace's maxQueueSpans counts waiting and in-flight spans alike; 2048 + one
 * 512-span batch in flight is the most OpenTelemetry holds, so the same bound.
 */
export const ZIPTRACE_QUEUE = OTEL_QUEUE + BATCH;
/** Spans made between two turns of the event loop (`await setImmediate()`). */
export const BURST = 256;

/**
 * `op()`: one span (async). `held()`: spans the library holds against its
 * queue bound right now. `capacity`: that bound. `dropped()`: spans it dropped
 * so far. `flush()`: its flush. `stats()`: anything else worth keeping.
 */
export function runReportingChild(library, { op, held, capacity, dropped, flush, stats = () => ({}), info = {} }) {
  const gc = globalThis.gc ?? (() => {});
  let run;

  /**
   * Bursts of BURST spans, each awaited in turn (the span is active across the
   * await inside it), with a turn of the event loop between bursts so the
   * library's sockets and timers get serviced as in a server. Before a burst,
   * if it could overflow the library's queue, wait (1 ms sleeps, idle, not
   * spinning) until the library has sent enough: the producer runs at the
   * fastest rate the pipeline carries without dropping.
   */
  async function produce(n) {
    let made = 0;
    let waits = 0;
    while (made < n) {
      const burst = Math.min(BURST, n - made);
      while (held() + burst > capacity) {
        waits++;
        await sleep(1);
      }
      for (let i = 0; i < burst; i++) await op();
      made += burst;
      await yieldToLoop();
    }
    await flush();
    return waits;
  }

  process.on('message', async (message) => {
    if (message.type === 'run') {
      gc();
      const droppedBefore = dropped();
      const cpu = process.cpuUsage();
      const start = performance.now();
      run = { cpu, start, droppedBefore };
      const waits = await produce(message.n);
      run.producedMs = performance.now() - start;
      run.waits = waits;
      process.send({ type: 'produced', dropped: dropped() - droppedBefore });
    } else if (message.type === 'stop') {
      const wallMs = performance.now() - run.start;
      const cpu = process.cpuUsage(run.cpu);
      process.send({
        type: 'result',
        wallMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        producedMs: run.producedMs,
        waits: run.waits,
        dropped: dropped() - run.droppedBefore,
        stats: stats(),
      });
    } else if (message.type === 'exit') {
      process.disconnect();
      // Sockets kept alive would hold the process up.
      setTimeout(() => process.exit(0), 100).unref();
    }
  });
  process.send({ type: 'ready', library, node: process.version, info });
}

/** The collector's address, from `--url`. */
export function collectorUrl() {
  const at = process.argv.indexOf('--url');
  if (at < 0) throw new Error('--url http://127.0.0.1:PORT is required');
  return process.argv[at + 1];
}
