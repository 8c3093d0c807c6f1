// The producer loop every library process of the reporting benchmark shares
// (bench/reporting-ziptrace.mjs, bench/reporting-opentelemetry.mjs). Driven by
// bench/reporting.mjs over IPC:
//   → { type: 'run', n }   make n spans, then flush; answer 'produced'
//   → { type: 'stop' }     the collector has every span: stop the clocks; answer 'result'
//   → { type: 'allocation', warmup }   in a process started with ALLOCATION_FLAGS:
//                          warm up, then the bytes allocated per span; answer 'allocated'
//   → { type: 'exit' }
// The clocks (wall and process CPU, all threads: gzip on libuv's pool and GC
// count; the main thread's CPU alone too where Node has process.threadCpuUsage) start before the first span and stop when 'stop' arrives, that is once
// the collector has counted the last span. A "span only" process (--span-only:
// the same spans, nothing exported) is told to stop as soon as it answers
// 'produced'.
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { bytesPerOp } from './harness.mjs';

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

/** The main thread's CPU alone (process.threadCpuUsage: Node 22 and 24, not 20), beside the whole process's. */
const mainThreadCpu = typeof process.threadCpuUsage === 'function' ? (since) => process.threadCpuUsage(since) : undefined;

/** `--span-only`: the library makes and ends the same spans, and exports nothing. */
export const SPAN_ONLY = process.argv.includes('--span-only');

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

  /**
   * Bytes allocated per span, flush included (the bodies, the requests, their
   * answers), in a process started with ALLOCATION_FLAGS: `warmup` spans
   * first, then harness.mjs bytesPerOp over windows of produce(n), the same
   * bursts, pacing and final flush as a timed round, so a window ends only
   * once every request of its spans has been answered. bytesPerOp counts the
   * V8 heap (heapUsed); beside it, the same windows' growth of
   * process.memoryUsage().arrayBuffers, the memory outside that heap behind
   * ArrayBuffers and Buffers (request bodies, gzip's input and output, socket
   * reads), with the same rules: windows with a collection inside are left
   * out, the least empty window is subtracted, and the least of the measured
   * windows' bytes per span counts (bytesPerOp halves a window that saw a
   * collection, so its measured windows are those of `ops` spans or more:
   * its warm-up and probe windows are of 16 and 64).
   */
  async function allocation(warmup) {
    await produce(warmup);
    const collections = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) collections.push(entry.startTime);
    });
    observer.observe({ entryTypes: ['gc'] });
    const windows = [];
    const droppedBefore = dropped();
    let made = 0;
    const heap = await bytesPerOp(async (n) => {
      const from = performance.now();
      const before = process.memoryUsage().arrayBuffers;
      await produce(n);
      const after = process.memoryUsage().arrayBuffers;
      windows.push({ n, bytes: after - before, from, to: performance.now() });
      made += n;
    });
    observer.disconnect();
    const clean = windows.filter((w) => !collections.some((t) => t > w.from && t < w.to));
    const least = (ws) => Math.min(...ws.map((w) => w.bytes));
    const empty = clean.filter((w) => w.n === 0);
    const full = heap.ops > 64 ? clean.filter((w) => w.n >= heap.ops) : [];
    const offHeap = empty.length > 0 && full.length > 0 ? Math.min(...full.map((w) => (w.bytes - least(empty)) / w.n)) : undefined;
    return {
      heapBytesPerSpan: heap.bytes,
      heapHighestWindow: heap.highest,
      spansPerWindow: heap.ops,
      offHeapBytesPerSpan: offHeap,
      offHeapWindows: full.length,
      spans: made,
      dropped: dropped() - droppedBefore,
      stats: stats(),
    };
  }

  process.on('message', async (message) => {
    if (message.type === 'run') {
      gc();
      const droppedBefore = dropped();
      const cpu = process.cpuUsage();
      const mainCpu = mainThreadCpu?.();
      const start = performance.now();
      run = { cpu, mainCpu, start, droppedBefore };
      const waits = await produce(message.n);
      run.producedMs = performance.now() - start;
      run.waits = waits;
      process.send({ type: 'produced', dropped: dropped() - droppedBefore });
    } else if (message.type === 'stop') {
      const wallMs = performance.now() - run.start;
      const cpu = process.cpuUsage(run.cpu);
      const mainCpu = mainThreadCpu?.(run.mainCpu);
      process.send({
        type: 'result',
        wallMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        mainThreadCpuMs: mainCpu === undefined ? undefined : (mainCpu.user + mainCpu.system) / 1000,
        producedMs: run.producedMs,
        waits: run.waits,
        dropped: dropped() - run.droppedBefore,
        stats: stats(),
      });
    } else if (message.type === 'allocation') {
      process.send({ type: 'allocated', ...(await allocation(message.warmup)) });
    } else if (message.type === 'exit') {
      process.disconnect();
      // Sockets kept alive would hold the process up.
      setTimeout(() => process.exit(0), 100).unref();
    }
  });
  process.send({ type: 'ready', library, node: process.version, info: { ...info, spanOnly: SPAN_ONLY } });
}

/** The collector's address, from `--url`. */
export function collectorUrl() {
  const at = process.argv.indexOf('--url');
  if (at < 0) throw new Error('--url http://127.0.0.1:PORT is required');
  return process.argv[at + 1];
}
