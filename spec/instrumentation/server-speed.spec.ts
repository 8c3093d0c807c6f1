/**
 * The server instrumentation after the speed changes (lib/instrumentation/server.ts:
 * a light handle for unsampled requests, a TracedRequest class for sampled
 * ones, the registry on the request): real node:http servers on loopback,
 * real fetch clients. Each case answers as it did at 2926f64.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { SamplingRequest } from '../../lib/index.js';
import { startServerRequest, tracedHandler } from '../../lib/http.js';
import { serverRequestOf, type ServerRequest } from '../../lib/instrumentation/server.js';
import { loopbackServers, spansOf } from '../helpers/http-servers.js';
import { clearGlobalTracerAfterEach, memoryTracer, sleep } from '../helpers/tracing.js';

clearGlobalTracerAfterEach();

const { listen } = loopbackServers();

describe('the sampler of a server request', () => {
  it('is asked with the request’s tags (http.method, http.path), as README’s sampler row says it is', async () => {
    const asked: SamplingRequest[] = [];
    // The usual way to keep health checks out of the traces: by path, in the sampler.
    const sampler = (request: SamplingRequest): boolean | undefined => {
      asked.push(request);
      return request.kind === 'SERVER' && request.tags?.['http.path'] === '/healthz' ? false : undefined;
    };
    const { tracer, reporter } = memoryTracer('api', { sampler, sampleRate: 1 });
    const url = await listen(tracedHandler(tracer, (_req, res) => res.end('ok')));
    await (await fetch(`${url}/healthz`)).text();
    await (await fetch(`${url}/users/1`)).text();
    const spans = await spansOf(reporter, 1);
    expect(spans[0]!.tags!['http.path']).toBe('/users/1');
    expect(asked.map((request) => request.tags)).toEqual([
      { 'http.method': 'GET', 'http.path': '/healthz' },
      { 'http.method': 'GET', 'http.path': '/users/1' },
    ]);
  });
});

describe('the handle’s methods taken off it', () => {
  it('route, run and end work destructured, as they did on the handle of closures', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const errors: unknown[] = [];
    const url = await listen((req, res) => {
      try {
        const { route, run, end } = startServerRequest(tracer, req, res);
        route('/users/:id');
        run(() => res.end('ok'));
        end();
      } catch (error) {
        errors.push(error);
        res.end('failed');
      }
    });
    expect(await (await fetch(`${url}/users/1`)).text()).toBe('ok');
    expect(errors).toEqual([]);
    const [span] = await spansOf(reporter, 1);
    expect(span!.name).toBe('GET /users/:id');
    expect(span!.tags!['http.route']).toBe('/users/:id');
  });

  it('fail given as a stream’s error listener records the error, and throws nothing into the emit', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const thrown: unknown[] = [];
    const url = await listen((req, res) => {
      const request = startServerRequest(tracer, req, res);
      // A listener Node calls with the emitter as `this`: req here.
      req.on('boom', request.fail);
      try {
        req.emit('boom', new Error('body parser failed'));
      } catch (error) {
        thrown.push(error);
      }
      res.statusCode = 400;
      res.end();
    });
    await (await fetch(url)).text();
    const [span] = await spansOf(reporter, 1);
    expect(thrown).toEqual([]);
    expect(span!.tags!.error).toBe('body parser failed');
  });
});

describe('a request object that cannot take new properties', () => {
  it('tracedHandler still runs the handler, and throws nothing of its own', async () => {
    const { tracer, reporter } = memoryTracer('api');
    const thrown: unknown[] = [];
    let ran = false;
    const handler = tracedHandler(tracer, (_req: IncomingMessage, res: ServerResponse) => {
      ran = true;
      res.end('ok');
    });
    const url = await listen((req, res) => {
      // A framework's read-only view of the request: a Proxy that refuses new properties.
      const view = new Proxy(req, {
        set: (target, key, value) => (key in target ? Reflect.set(target, key, value) : false),
        defineProperty: () => false,
      });
      try {
        handler(view, res);
      } catch (error) {
        thrown.push(error);
        res.end('failed');
      }
    });
    expect(await (await fetch(url)).text()).toBe('ok');
    expect(thrown).toEqual([]);
    expect(ran).toBe(true);
    await spansOf(reporter, 1);
  });
});
