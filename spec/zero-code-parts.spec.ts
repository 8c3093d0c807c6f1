/**
 * The parts of the zero-code start (lib/zero-code/), each called in this
 * process with a memory tracer: what spec/zero-code.spec.ts checks end to
 * end in child processes, here where coverage sees it, and the corners a
 * child does not reach. Vitest runs each spec file in a process of its own,
 * so the patches made here (http.Server's emit, Module._load, Express's and
 * Koa's prototypes) stay in this file.
 */
import { createRequire } from 'node:module';
import http from 'node:http';
import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { currentSpan, getGlobalTracer } from '../lib/index.js';
import { expressLoads } from '../lib/zero-code/express.js';
import { traceFastify } from '../lib/zero-code/fastify.js';
import { koaLoads } from '../lib/zero-code/koa.js';
import { watchModuleLoads } from '../lib/zero-code/module-loads.js';
import { traceServers } from '../lib/zero-code/servers.js';
import { start } from '../lib/zero-code/start.js';
import { tracerFromEnvironment } from '../lib/zero-code/tracer.js';
import { callerHeaders, expectJoinedToB3Caller, loopbackServers, spansOf } from './helpers/http-servers.js';
import { clearGlobalTracerAfterEach, memoryTracer } from './helpers/tracing.js';

const require = createRequire(import.meta.url);
clearGlobalTracerAfterEach();
const { listen } = loopbackServers();

/** One memory tracer for the whole file: the server hook, once installed, starts every request's span with it. */
const { tracer, reporter } = memoryTracer('parts', { global: false });
traceServers(tracer);

async function lastSpans(count: number) {
  const spans = [...(await spansOf(reporter, count))];
  reporter.clear();
  return spans;
}

describe('traceServers', () => {
  it('gives every http.Server request its SERVER span, active in the listener', async () => {
    let active: unknown;
    const url = await listen((_req, res) => {
      active = currentSpan();
      res.end('ok');
    });
    const { headers, client } = callerHeaders('b3');
    expect(await (await fetch(`${url}/users/42`, { headers })).text()).toBe('ok');
    const [span] = await lastSpans(1);
    expectJoinedToB3Caller(span, client, 'GET', { 'http.method': 'GET', 'http.path': '/users/42', 'http.status_code': '200' });
    expect(active).toBeDefined();
  });

  it('wraps once however often it is called, and passes other events on untouched', async () => {
    const emit = http.Server.prototype.emit;
    traceServers(tracer);
    expect(http.Server.prototype.emit).toBe(emit);
    const server = http.createServer();
    let seen: unknown[] = [];
    server.on('custom', (...args) => (seen = args));
    expect(server.emit('custom', 1, 2)).toBe(true);
    expect(seen).toEqual([1, 2]);
  });

  it('still runs the listeners when starting the span fails', async () => {
    const url = await listen((_req, res) => res.end('ok'));
    // A request whose headers cannot be read: the starter throws before any span exists.
    const server = http.createServer((_req, res) => res.end('still served'));
    const broken = Object.defineProperty({ url: '/', method: 'GET' }, 'headers', { get: () => { throw new Error('unreadable'); } });
    let served = '';
    const res = { end: (text: string) => (served = text) };
    server.emit('request', broken, res);
    expect(served).toBe('still served');
    expect(await (await fetch(url)).text()).toBe('ok');
    await lastSpans(1);
  });
});

describe('expressLoads', () => {
  const watch = expressLoads(tracer);

  it('patches Express once, by its shape, and ignores every other module', async () => {
    const application = express.application as unknown as { handle: unknown };
    const handle = application.handle;
    for (const other of [undefined, null, 42, {}, () => {}, Koa, require('node:path')]) watch(other);
    expect(application.handle).toBe(handle);
    watch(express);
    const patched = application.handle;
    expect(patched).not.toBe(handle);
    watch(express);
    expect(application.handle).toBe(patched);
  });

  it('names the span by the route and records what a handler threw, in Express 5 and 4', async () => {
    const express4 = require('express4') as typeof express;
    watch(express4);
    for (const make of [express, express4]) {
      const app = make();
      const users = make.Router();
      users.get('/:id', (_req, res) => void res.send('ok'));
      app.use('/users', users);
      app.get('/fail', () => {
        throw new Error('the handler failed');
      });
      app.set('env', 'test');
      const url = await listen(app as unknown as http.RequestListener);
      expect((await fetch(`${url}/users/42`)).status).toBe(200);
      expect((await fetch(`${url}/fail`)).status).toBe(500);
      expect((await fetch(`${url}/nothing`)).status).toBe(404);
      const spans = await lastSpans(3);
      expect(spans.map((span) => [span.name, span.tags?.error])).toEqual([
        ['GET /users/:id', undefined],
        ['GET /fail', 'the handler failed'],
        ['GET', undefined],
      ]);
    }
  });
});

describe('koaLoads', () => {
  it('puts the Koa middleware first in each app, once, in Koa 3 and 2', async () => {
    const watch = koaLoads(tracer);
    const Koa2 = require('koa2') as typeof Koa;
    for (const other of [undefined, express, class {}]) watch(other);
    for (const Application of [Koa, Koa2]) {
      watch(Application);
      watch(Application);
      const app = new Application();
      const router = new Router();
      router.get('/users/:id', (ctx) => {
        ctx.body = 'ok';
      });
      app.use(router.routes());
      const url = await listen(app.callback());
      app.callback();
      expect(app.middleware).toHaveLength(2);
      expect(await (await fetch(`${url}/users/42`)).text()).toBe('ok');
      expect((await lastSpans(1))[0]).toMatchObject({ name: 'GET /users/:id', tags: { 'http.route': '/users/:id' } });
    }
  });
});

describe('traceFastify', () => {
  it('registers the plugin on each Fastify instance made, and ignores a message with none', async () => {
    traceFastify(tracer);
    const diagnostics = await import('node:diagnostics_channel');
    diagnostics.channel('fastify.initialization').publish({});
    diagnostics.channel('fastify.initialization').publish({ fastify: { register: () => { throw new Error('refused'); } } });
    const app = Fastify();
    app.get('/users/:id', async () => 'ok');
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect(await (await fetch(`${address}/users/42`)).text()).toBe('ok');
      expect((await lastSpans(1))[0]).toMatchObject({ name: 'GET /users/:id' });
    } finally {
      await app.close();
    }
  });
});

describe('watchModuleLoads', () => {
  it('tells each CommonJS load, cached ones too, and swallows what the watcher throws', () => {
    const seen: unknown[] = [];
    watchModuleLoads((exports) => {
      seen.push(exports);
      throw new Error('a watcher that fails');
    });
    const path = require('node:path');
    expect(require('node:path')).toBe(path);
    expect(seen.filter((exports) => exports === path)).toHaveLength(2);
  });
});

describe('tracerFromEnvironment and start', () => {
  it('says each problem once, prefixed and naming the variable, and gives no tracer', () => {
    const lines: string[] = [];
    expect(tracerFromEnvironment({ OTEL_TRACES_SAMPLER: 'sometimes', OTEL_SDK_DISABLED: 'no' }, (line) => lines.push(line))).toBeUndefined();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^ziptrace: OTEL_\w+.*; the app runs untraced$/);
    expect(lines.some((line) => line.includes('OTEL_TRACES_SAMPLER'))).toBe(true);
  });

  it('gives nothing and says nothing when OTEL_SDK_DISABLED=true', () => {
    const lines: string[] = [];
    expect(tracerFromEnvironment({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_SAMPLER: 'sometimes' }, (line) => lines.push(line))).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('starts once: a global tracer from the environment, signal listeners, and a second start does nothing', async () => {
    const before = process.listenerCount('SIGTERM');
    start({ OTEL_SERVICE_NAME: 'from-env', OTEL_TRACES_EXPORTER: 'none' });
    const made = getGlobalTracer();
    expect(made).toBeDefined();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    start({ OTEL_SERVICE_NAME: 'again', OTEL_TRACES_EXPORTER: 'none' });
    // ziptrace/register itself: loaded after a start, it starts nothing more.
    await import('../lib/register.js');
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    expect(getGlobalTracer()).toBe(made);
  });
});
