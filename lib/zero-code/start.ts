/**
 * The zero-code start (`node --import ziptrace/register app.mjs`, or
 * `--require` for CommonJS): a tracer from the environment, and each part of
 * the app's HTTP traced as `ZIPTRACE_INSTRUMENT` asks (all by default). Each
 * part is a module of its own in this folder; this one only decides which run.
 */
import type { InstrumentationName } from '../env-config.js';
import { instrumentClients } from '../instrumentation/http-client.js';
import { installSignalFlush } from '../signal-flush.js';
import { expressLoads } from './express.js';
import { traceFastify } from './fastify.js';
import { koaLoads } from './koa.js';
import { watchModuleLoads, type ModuleWatcher } from './module-loads.js';
import { traceServers } from './servers.js';
import { tracerFromEnvironment } from './tracer.js';

/**
 * Set on `globalThis` once started: an `--import` and a `--require` of
 * `ziptrace/register` in one process, or two installed copies of ziptrace,
 * start once. A registered symbol, so that every copy sees the same key.
 */
const STARTED = Symbol.for('ziptrace.zero-code.started.v1');

/**
 * Starts zero-code tracing for this process, once: later calls do nothing.
 * `OTEL_SDK_DISABLED=true` does nothing at all (no tracer, no patch, no
 * signal listener); a wrong variable prints its problem on stderr and leaves
 * the app untraced. Never throws: the app must start either way.
 */
export function start(env: NodeJS.ProcessEnv = process.env): void {
  const holder = globalThis as unknown as Record<symbol, unknown>;
  if (holder[STARTED] !== undefined) return;
  Object.defineProperty(globalThis, STARTED, { value: true, enumerable: false, configurable: false, writable: false });
  try {
    const traced = tracerFromEnvironment(env, (line) => process.stderr.write(`${line}\n`));
    if (traced === undefined) return;
    const { tracer, config } = traced;
    const on = (name: InstrumentationName): boolean => config.instrument.includes(name);
    if (on('http')) traceServers(tracer);
    // The clients' instrumentation syncs the ESM named exports of node:http/https itself (syncBuiltinESMExports).
    if (on('http') || on('fetch')) instrumentClients(tracer, {}, { fetch: on('fetch'), http: on('http') });
    const watchers: ModuleWatcher[] = [];
    if (on('express')) watchers.push(expressLoads(tracer));
    if (on('koa')) watchers.push(koaLoads(tracer));
    if (watchers.length > 0) watchModuleLoads((exports) => {
      for (const watch of watchers) watch(exports);
    });
    if (on('fastify')) traceFastify(tracer);
    // The library never handles signals; this entry point does, so the spans of a stopped app are sent.
    installSignalFlush(() => tracer.flush(), { timeoutMs: config.flushTimeout });
  } catch (error) {
    process.stderr.write(`ziptrace: the zero-code start failed (${error instanceof Error ? error.message : String(error)}); the app runs untraced or partly traced\n`);
  }
}
