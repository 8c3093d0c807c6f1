/**
 * Configuration from the environment (lib/env-config.ts): each variable with
 * OpenTelemetry's meaning, ziptrace's defaults where it has its own, every
 * wrong value as a problem that names the variable, its value and what it
 * takes; then the tracer those options make, and how it samples and
 * propagates.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { environmentConfig, tracerOptionsFromEnvironment, type EnvironmentConfig, type OtlpReporterEnvOptions } from '../lib/env-config.js';
import { createTracer, HttpReporter, ConsoleReporter, MemoryReporter, OtlpReporter, sampledByRate, type Reporter, type Tracer } from '../lib/index.js';
import { clearGlobalTracerAfterEach } from './helpers/tracing.js';

clearGlobalTracerAfterEach();

const tracers: Tracer[] = [];
afterEach(async () => {
  // HttpReporters hold an exit hook and a socket pool: closed, so nothing outlives its test.
  await Promise.all(tracers.splice(0).map((t) => t.close({ timeout: 100 })));
});

/** The problems of `env`, which must hold `expected` (a fragment or pattern), and only one problem. */
function problemOf(env: NodeJS.ProcessEnv): string {
  const { problems } = environmentConfig(env);
  expect(problems, JSON.stringify(env)).toHaveLength(1);
  return problems[0]!;
}

describe('environmentConfig: defaults', () => {
  it('with nothing set: parentbased_always_on, ziptrace propagation, Zipkin at localhost:9411, everything instrumented', () => {
    const config = environmentConfig({});
    expect(config).toEqual<EnvironmentConfig>({
      disabled: false,
      problems: [],
      serviceName: 'unknown_service:node',
      sampler: { name: 'parentbased_always_on', ratio: 1, parentBased: true },
      propagation: undefined,
      exporters: [{ kind: 'zipkin', options: { url: 'http://localhost:9411/api/v2/spans', exitTimeout: 2000 } }],
      supportsJoin: true,
      traceId128Bit: true,
      instrument: ['http', 'fetch', 'express', 'koa', 'fastify'],
      flushTimeout: 2000,
    });
  });

  it('reads empty variables as unset, and ignores variables that are not its own', () => {
    const empty = Object.fromEntries(['OTEL_SERVICE_NAME', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_PROPAGATORS', 'OTEL_TRACES_EXPORTER', 'OTEL_SDK_DISABLED', 'ZIPTRACE_INSTRUMENT', 'OTEL_BSP_SCHEDULE_DELAY'].map((n) => [n, '']));
    expect(environmentConfig({ ...empty, PATH: '/usr/bin', OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'whatever' })).toEqual(environmentConfig({}));
    expect(environmentConfig({ OTEL_SERVICE_NAME: '   ' }).serviceName).toBe('unknown_service:node');
  });
});

describe('environmentConfig: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', () => {
  it.each([
    [{ OTEL_SERVICE_NAME: 'checkout' }, 'checkout'],
    [{ OTEL_SERVICE_NAME: ' checkout ' }, 'checkout'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=cart' }, 'cart'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'service.name=my%20cart' }, 'my cart'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'service.name=', OTEL_SERVICE_NAME: undefined }, 'unknown_service:node'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'team=shop,nonsense' }, 'unknown_service:node'],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'service.name=cart', OTEL_SERVICE_NAME: 'checkout' }, 'checkout'],
  ])('%j → %s', (env, name) => {
    const config = environmentConfig(env);
    expect(config.problems).toEqual([]);
    expect(config.serviceName).toBe(name);
  });

  it('says so when service.name is not valid percent-encoding', () => {
    expect(problemOf({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=50%off' })).toBe('OTEL_RESOURCE_ATTRIBUTES: the value of service.name is not valid percent-encoding (a % must start %XX)');
  });
});

describe('environmentConfig: OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG', () => {
  it.each([
    ['always_on', undefined, { name: 'always_on', ratio: 1, parentBased: false }],
    ['always_off', undefined, { name: 'always_off', ratio: 0, parentBased: false }],
    ['ALWAYS_OFF', undefined, { name: 'always_off', ratio: 0, parentBased: false }],
    ['always_off', 'not used, so not read', { name: 'always_off', ratio: 0, parentBased: false }],
    ['traceidratio', undefined, { name: 'traceidratio', ratio: 1, parentBased: false }],
    ['traceidratio', '0.25', { name: 'traceidratio', ratio: 0.25, parentBased: false }],
    ['traceidratio', '0', { name: 'traceidratio', ratio: 0, parentBased: false }],
    ['traceidratio', '1', { name: 'traceidratio', ratio: 1, parentBased: false }],
    ['traceidratio', '.5', { name: 'traceidratio', ratio: 0.5, parentBased: false }],
    ['traceidratio', '1e-3', { name: 'traceidratio', ratio: 0.001, parentBased: false }],
    ['parentbased_always_on', undefined, { name: 'parentbased_always_on', ratio: 1, parentBased: true }],
    ['parentbased_always_off', undefined, { name: 'parentbased_always_off', ratio: 0, parentBased: true }],
    ['parentbased_traceidratio', ' 0.1 ', { name: 'parentbased_traceidratio', ratio: 0.1, parentBased: true }],
    ['parentbased_traceidratio', undefined, { name: 'parentbased_traceidratio', ratio: 1, parentBased: true }],
  ])('%s with argument %j', (sampler, arg, expected) => {
    const config = environmentConfig({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg });
    expect(config.problems).toEqual([]);
    expect(config.sampler).toEqual(expected);
  });

  it.each([
    ['jaeger_remote', 'OTEL_TRACES_SAMPLER="jaeger_remote": jaeger_remote is not supported by ziptrace; use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'],
    ['parentbased_jaeger_remote', 'OTEL_TRACES_SAMPLER="parentbased_jaeger_remote": parentbased_jaeger_remote is not supported by ziptrace; use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'],
    ['xray', 'OTEL_TRACES_SAMPLER="xray": xray is not supported by ziptrace; use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'],
    ['parentbased_alwayson', 'OTEL_TRACES_SAMPLER="parentbased_alwayson": parentbased_alwayson is not a sampler; did you mean parentbased_always_on?'],
    ['ratio', 'OTEL_TRACES_SAMPLER="ratio": ratio is not a sampler; it takes always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'],
  ])('refuses %s', (sampler, problem) => {
    expect(problemOf({ OTEL_TRACES_SAMPLER: sampler })).toBe(problem);
  });

  it.each(['1.5', '-0.1', 'half', '0x1', 'Infinity', 'NaN', '1/2', '50%'])('refuses the ratio %j, naming OTEL_TRACES_SAMPLER_ARG', (arg) => {
    for (const sampler of ['traceidratio', 'parentbased_traceidratio']) {
      expect(problemOf({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg })).toBe(
        `OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(arg)}: expected the share of traces to record, a number from 0 to 1 such as 0.25`,
      );
    }
  });
});

describe('environmentConfig: OTEL_PROPAGATORS', () => {
  it.each([
    ['tracecontext', { extract: ['w3c'], inject: ['w3c'] }],
    ['b3', { extract: ['b3-single', 'b3'], inject: ['b3-single'] }],
    ['b3multi', { extract: ['b3-single', 'b3'], inject: ['b3'] }],
    // OpenTelemetry: the last propagator that finds a context wins; ziptrace: the first. Hence reversed.
    ['tracecontext,b3multi', { extract: ['b3-single', 'b3', 'w3c'], inject: ['w3c', 'b3'] }],
    ['b3, tracecontext', { extract: ['w3c', 'b3-single', 'b3'], inject: ['b3-single', 'w3c'] }],
    ['tracecontext,baggage', { extract: ['w3c'], inject: ['w3c'] }],
    ['TraceContext,,B3', { extract: ['b3-single', 'b3', 'w3c'], inject: ['w3c', 'b3-single'] }],
    ['b3,b3multi', { extract: ['b3-single', 'b3'], inject: ['b3-single', 'b3'] }],
    ['baggage', { extract: [], inject: [] }],
    ['none', { extract: [], inject: [] }],
  ])('%s', (value, expected) => {
    const config = environmentConfig({ OTEL_PROPAGATORS: value });
    expect(config.problems).toEqual([]);
    expect(config.propagation).toEqual(expected);
  });

  it.each([
    ['xray', 'OTEL_PROPAGATORS="xray": xray is not supported by ziptrace; it takes tracecontext, b3, b3multi, baggage, none'],
    ['tracecontext,ottrace', 'OTEL_PROPAGATORS="tracecontext,ottrace": ottrace is not supported by ziptrace; it takes tracecontext, b3, b3multi, baggage, none'],
    ['jaeger', 'OTEL_PROPAGATORS="jaeger": jaeger is not supported by ziptrace; it takes tracecontext, b3, b3multi, baggage, none'],
    ['b3mutli', 'OTEL_PROPAGATORS="b3mutli": b3mutli is not a propagator; did you mean b3multi?'],
    ['w3c', 'OTEL_PROPAGATORS="w3c": w3c is not a propagator; did you mean b3?'],
    ['none,b3', 'OTEL_PROPAGATORS="none,b3": none cannot be listed with other propagators'],
  ])('refuses %s', (value, problem) => {
    expect(problemOf({ OTEL_PROPAGATORS: value })).toBe(problem);
  });
});

describe('environmentConfig: OTEL_TRACES_EXPORTER and the endpoints', () => {
  const zipkin = (url: string, more: object = {}) => ({ kind: 'zipkin', options: { url, exitTimeout: 2000, ...more } });
  const otlp = (url: string, encoding: 'protobuf' | 'json' = 'protobuf', more: object = {}) => ({ kind: 'otlp', options: { url, encoding, exitTimeout: 2000, ...more } });

  it.each<[NodeJS.ProcessEnv, unknown[]]>([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, [zipkin('http://localhost:9411/api/v2/spans')]],
    [{ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'https://zipkin.example:9411/api/v2/spans' }, [zipkin('https://zipkin.example:9411/api/v2/spans')]],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, [otlp('http://localhost:4318/v1/traces')]],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, [otlp('http://collector:4318/v1/traces')]],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, [otlp('http://collector:4318/v1/traces')]],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gateway.example/otlp' }, [otlp('https://gateway.example/otlp/v1/traces')]],
    // The traces endpoint is taken as it is, and the general one is then not read (it may be set for metrics, gRPC style).
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }, [otlp('http://collector:4318/custom')]],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, [otlp('http://localhost:4318/v1/traces', 'json')]],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/Protobuf' }, [otlp('http://localhost:4318/v1/traces')]],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, [otlp('http://localhost:4318/v1/traces', 'json')]],
    [{ OTEL_TRACES_EXPORTER: 'console' }, [{ kind: 'console' }]],
    [{ OTEL_TRACES_EXPORTER: 'none' }, []],
    [{ OTEL_TRACES_EXPORTER: 'otlp,console' }, [otlp('http://localhost:4318/v1/traces'), { kind: 'console' }]],
    [{ OTEL_TRACES_EXPORTER: 'Zipkin, zipkin ,console' }, [zipkin('http://localhost:9411/api/v2/spans'), { kind: 'console' }]],
    // Unset: each exporter whose endpoint is set; else Zipkin on localhost (ziptrace serve).
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, [otlp('http://collector:4318/v1/traces')]],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, [otlp('http://collector:4318/v1/traces')]],
    [{ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans' }, [zipkin('http://zipkin:9411/api/v2/spans')]],
    [{ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, [zipkin('http://zipkin:9411/api/v2/spans'), otlp('http://collector:4318/v1/traces')]],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, [zipkin('http://localhost:9411/api/v2/spans')]],
  ])('%j', (env, exporters) => {
    const config = environmentConfig(env);
    expect(config.problems).toEqual([]);
    expect(config.exporters).toEqual(exporters);
  });

  it.each([
    ['jaeger', 'OTEL_TRACES_EXPORTER="jaeger": jaeger is not supported by ziptrace; it takes zipkin, otlp, console, none'],
    ['logging', 'OTEL_TRACES_EXPORTER="logging": logging is not supported by ziptrace; use console'],
    ['zipkn', 'OTEL_TRACES_EXPORTER="zipkn": zipkn is not an exporter; did you mean zipkin?'],
    ['otlp,kafka', 'OTEL_TRACES_EXPORTER="otlp,kafka": kafka is not an exporter; it takes zipkin, otlp, console, none'],
    ['none,console', 'OTEL_TRACES_EXPORTER="none,console": none cannot be listed with other exporters'],
  ])('refuses the exporter %s', (value, problem) => {
    expect(problemOf({ OTEL_TRACES_EXPORTER: value })).toBe(problem);
  });

  it.each<[NodeJS.ProcessEnv, string]>([
    [{ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'localhost:9411' }, 'OTEL_EXPORTER_ZIPKIN_ENDPOINT="localhost:9411": expected an http: or https: URL such as http://zipkin:9411/api/v2/spans (the scheme is missing: http://localhost:9411)'],
    [{ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'ftp://zipkin/spans' }, 'OTEL_EXPORTER_ZIPKIN_ENDPOINT="ftp://zipkin/spans": expected an http: or https: URL such as http://zipkin:9411/api/v2/spans'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_ENDPOINT="not a url": expected an http: or https: URL such as http://collector:4318'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="collector:4318": expected an http: or https: URL such as http://collector:4318/v1/traces (the scheme is missing: http://collector:4318)'],
    // The user name and password of a URL are not printed.
    [{ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'ftp://admin:hunter2@zipkin/spans' }, 'OTEL_EXPORTER_ZIPKIN_ENDPOINT="ftp://…@zipkin/spans": expected an http: or https: URL such as http://zipkin:9411/api/v2/spans'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL="grpc": grpc is not supported by ziptrace, use http/protobuf (the default; an OpenTelemetry Collector takes it on port 4318) or http/json'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuff' }, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/protobuff": http/protobuff is not an OTLP protocol; did you mean http/protobuf?'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }, 'OTEL_EXPORTER_OTLP_PROTOCOL="thrift": thrift is not an OTLP protocol; it takes http/protobuf, http/json'],
  ])('refuses %j', (env, problem) => {
    expect(problemOf(env)).toBe(problem);
  });

  it('cuts a long value short in its problem', () => {
    const problem = problemOf({ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'x'.repeat(500) });
    expect(problem).toContain(`"${'x'.repeat(200)}…"`);
    expect(problem.length).toBeLessThan(400);
  });
});

describe('environmentConfig: OTLP headers', () => {
  it.each<[NodeJS.ProcessEnv, Record<string, string> | undefined]>([
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc123' }, { 'api-key': 'abc123' }],
    [{ OTEL_EXPORTER_OTLP_HEADERS: ' Api-Key = abc , team=shop,' }, { 'api-key': 'abc', team: 'shop' }],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20dXNlcjpwYXNz' }, { authorization: 'Basic dXNlcjpwYXNz' }],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'x-token=a=b' }, { 'x-token': 'a=b' }],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3,c=4' }, { a: '1', b: '3', c: '4' }],
    [{ OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'c=4' }, { c: '4' }],
    [{}, undefined],
  ])('%j', (env, headers) => {
    const config = environmentConfig({ OTEL_TRACES_EXPORTER: 'otlp', ...env });
    expect(config.problems).toEqual([]);
    expect((config.exporters[0] as { options: OtlpReporterEnvOptions }).options.headers).toEqual(headers);
  });

  it.each([
    ['api-key', 'OTEL_EXPORTER_OTLP_HEADERS: entry 1 is not key=value'],
    ['a=1,=2', 'OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value'],
    ['bad name=secret', 'OTEL_EXPORTER_OTLP_HEADERS: "bad name" is not a header name'],
    ['token=sec%ret', 'OTEL_EXPORTER_OTLP_HEADERS: the value of token is not valid percent-encoding of a header value'],
    ['token=a%0D%0Ax-injected: 1', 'OTEL_EXPORTER_OTLP_HEADERS: the value of token is not valid percent-encoding of a header value'],
  ])('refuses %j without printing a value', (value, start) => {
    const problem = problemOf({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: value });
    expect(problem).toBe(`${start}; expected key=value pairs separated by commas, such as api-key=secret,team=shop`);
    expect(problem).not.toMatch(/secret(?!,team)|sec%ret|injected/);
  });
});

describe('environmentConfig: batches and timeouts', () => {
  it('maps OTEL_BSP_* to the reporter options, and each exporter its own timeout', () => {
    const config = environmentConfig({
      OTEL_TRACES_EXPORTER: 'zipkin,otlp',
      OTEL_BSP_SCHEDULE_DELAY: '5000',
      OTEL_BSP_MAX_QUEUE_SIZE: '2048',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
      OTEL_BSP_EXPORT_TIMEOUT: '30000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '7000',
      ZIPTRACE_FLUSH_TIMEOUT: '3000',
    });
    expect(config.problems).toEqual([]);
    const batch = { batchInterval: 5000, maxQueueSpans: 2048, maxBatchSpans: 512, exitTimeout: 3000 };
    expect(config.exporters).toEqual([
      { kind: 'zipkin', options: { ...batch, timeout: 30000, url: 'http://localhost:9411/api/v2/spans' } },
      { kind: 'otlp', options: { ...batch, timeout: 7000, url: 'http://localhost:4318/v1/traces', encoding: 'protobuf' } },
    ]);
    expect(config.flushTimeout).toBe(3000);
  });

  it.each<[NodeJS.ProcessEnv, number]>([
    [{ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_TIMEOUT: '1500', OTEL_BSP_EXPORT_TIMEOUT: '9000' }, 1500],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1200', OTEL_EXPORTER_OTLP_TIMEOUT: '7000' }, 1200],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_EXPORT_TIMEOUT: '9000' }, 9000],
  ])('the exporter\'s timeout before the batch one: %j', (env, timeout) => {
    expect((environmentConfig(env).exporters[0] as { options: { timeout?: number } }).options.timeout).toBe(timeout);
  });

  it('reads OTEL_BSP_SCHEDULE_DELAY=0, "no delay", as the shortest interval', () => {
    expect(environmentConfig({ OTEL_BSP_SCHEDULE_DELAY: '0' }).exporters).toEqual([{ kind: 'zipkin', options: { url: 'http://localhost:9411/api/v2/spans', batchInterval: 1, exitTimeout: 2000 } }]);
  });

  it.each([
    ['OTEL_BSP_SCHEDULE_DELAY', '5s', 'milliseconds such as 5000'],
    ['OTEL_BSP_SCHEDULE_DELAY', '-1', 'milliseconds such as 5000'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', '0', 'spans such as 2048, at least 1'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', '1.5', 'spans such as 2048, at least 1'],
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'lots', 'spans such as 512, at least 1'],
    ['OTEL_BSP_EXPORT_TIMEOUT', '0', 'milliseconds such as 5000, at least 1'],
    ['OTEL_BSP_EXPORT_TIMEOUT', '99999999999', 'milliseconds such as 5000, at least 1'],
    ['OTEL_EXPORTER_ZIPKIN_TIMEOUT', '10s', 'milliseconds such as 5000, at least 1'],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '1e4', 'milliseconds such as 5000, at least 1'],
    ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'soon', 'milliseconds such as 5000, at least 1'],
    ['ZIPTRACE_FLUSH_TIMEOUT', '2 s', 'milliseconds such as 5000, at least 1, at most 60000'],
    ['ZIPTRACE_FLUSH_TIMEOUT', '0', 'milliseconds such as 5000, at least 1, at most 60000'],
    ['ZIPTRACE_FLUSH_TIMEOUT', '60001', 'milliseconds such as 5000, at least 1, at most 60000'],
  ])('refuses %s=%j', (name, value, what) => {
    const exporter = name.includes('OTLP') ? 'otlp' : 'zipkin';
    expect(problemOf({ OTEL_TRACES_EXPORTER: exporter, [name]: value })).toBe(`${name}=${JSON.stringify(value)}: expected a whole number of ${what}`);
  });
});

describe('environmentConfig: OTLP compression', () => {
  const gzipOf = (env: NodeJS.ProcessEnv): unknown => (environmentConfig({ OTEL_TRACES_EXPORTER: 'otlp', ...env }).exporters[0] as { options: { gzip?: boolean } }).options.gzip;

  it.each<[NodeJS.ProcessEnv, boolean | undefined]>([
    [{}, undefined],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, true],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP' }, true],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'none' }, false],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: ' ' }, undefined],
    [{ OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, false],
    [{ OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, true],
  ])('%j → gzip %s (unset: left to the reporter, which gzips but to a collector on this machine)', (env, gzip) => {
    expect(environmentConfig({ OTEL_TRACES_EXPORTER: 'otlp', ...env }).problems).toEqual([]);
    expect(gzipOf(env)).toBe(gzip);
  });

  it('refuses a compression it cannot do, naming the ones it can', () => {
    expect(problemOf({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' })).toBe('OTEL_EXPORTER_OTLP_COMPRESSION="zstd": zstd is not a compression; it takes gzip, none');
    expect(problemOf({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzipp' })).toBe('OTEL_EXPORTER_OTLP_TRACES_COMPRESSION="gzipp": gzipp is not a compression; did you mean gzip?');
  });
});

describe('environmentConfig: OTEL_SDK_DISABLED', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['false', false],
    ['FALSE', false],
  ])('%s → disabled %s', (value, disabled) => {
    const config = environmentConfig({ OTEL_SDK_DISABLED: value });
    expect(config.problems).toEqual([]);
    expect(config.disabled).toBe(disabled);
  });

  it.each(['1', 'yes', 'on', 'disabled'])('%s is a problem, not a quiet "enabled"', (value) => {
    const config = environmentConfig({ OTEL_SDK_DISABLED: value });
    expect(config.disabled).toBe(false);
    expect(config.problems).toEqual([`OTEL_SDK_DISABLED=${JSON.stringify(value)}: expected true or false`]);
  });

  it('when disabled, says nothing of the other variables', () => {
    const config = environmentConfig({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_SAMPLER: 'nonsense', ZIPTRACE_TYPO: '1' });
    expect(config.disabled).toBe(true);
    expect(config.problems).toEqual([]);
  });
});

describe('environmentConfig: ZIPTRACE_*', () => {
  it.each<[NodeJS.ProcessEnv, Partial<EnvironmentConfig>]>([
    [{ ZIPTRACE_SUPPORTS_JOIN: 'false' }, { supportsJoin: false }],
    [{ ZIPTRACE_SUPPORTS_JOIN: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }, { supportsJoin: true }],
    // OTLP backends cannot show two spans with one id: unset, joining is off when OTLP is one of the exporters.
    [{ OTEL_TRACES_EXPORTER: 'zipkin,otlp' }, { supportsJoin: false }],
    [{ OTEL_TRACES_EXPORTER: 'console' }, { supportsJoin: true }],
    [{ ZIPTRACE_TRACE_ID_128BIT: 'false' }, { traceId128Bit: false }],
    [{ ZIPTRACE_TRACE_ID_128BIT: 'true' }, { traceId128Bit: true }],
    [{ ZIPTRACE_INSTRUMENT: 'http,Express' }, { instrument: ['http', 'express'] }],
    [{ ZIPTRACE_INSTRUMENT: 'fetch, fetch' }, { instrument: ['fetch'] }],
    [{ ZIPTRACE_INSTRUMENT: 'none' }, { instrument: [] }],
    [{ ZIPTRACE_FLUSH_TIMEOUT: '500' }, { flushTimeout: 500 }],
    // The repository's own scripts' variables are not configuration, and not problems.
    [{ ZIPTRACE_SEED: '42', ZIPTRACE_DIST: '/tmp/x' }, {}],
  ])('%j', (env, expected) => {
    const config = environmentConfig(env);
    expect(config.problems).toEqual([]);
    expect(config).toMatchObject(expected);
  });

  it.each<[NodeJS.ProcessEnv, string]>([
    [{ ZIPTRACE_SUPPORTS_JOIN: 'yes' }, 'ZIPTRACE_SUPPORTS_JOIN="yes": expected true or false'],
    [{ ZIPTRACE_TRACE_ID_128BIT: '64' }, 'ZIPTRACE_TRACE_ID_128BIT="64": expected true or false'],
    [{ ZIPTRACE_INSTRUMENT: 'http,expres' }, 'ZIPTRACE_INSTRUMENT="http,expres": expres is not something ziptrace instruments; did you mean express?'],
    [{ ZIPTRACE_INSTRUMENT: 'mongodb' }, 'ZIPTRACE_INSTRUMENT="mongodb": mongodb is not something ziptrace instruments; it takes http, fetch, express, koa, fastify, none'],
    [{ ZIPTRACE_INSTRUMENT: 'none,http' }, 'ZIPTRACE_INSTRUMENT="none,http": none cannot be listed with others'],
    [{ ZIPTRACE_SUPORTS_JOIN: 'false' }, 'ZIPTRACE_SUPORTS_JOIN is not a ziptrace variable; did you mean ZIPTRACE_SUPPORTS_JOIN?'],
    [{ ZIPTRACE_FLUSH_TIMEOUT_MS: '100' }, 'ZIPTRACE_FLUSH_TIMEOUT_MS is not a ziptrace variable; did you mean ZIPTRACE_FLUSH_TIMEOUT?'],
  ])('refuses %j', (env, problem) => {
    expect(problemOf(env)).toBe(problem);
  });
});

it('lists every problem at once, one line each', () => {
  const { problems } = environmentConfig({ OTEL_TRACES_SAMPLER: 'often', OTEL_PROPAGATORS: 'xray', OTEL_TRACES_EXPORTER: 'jaeger', ZIPTRACE_SUPPORTS_JOIN: 'maybe' });
  expect(problems.map((p) => p.split('=')[0])).toEqual(['OTEL_TRACES_SAMPLER', 'OTEL_PROPAGATORS', 'OTEL_TRACES_EXPORTER', 'ZIPTRACE_SUPPORTS_JOIN']);
  for (const problem of problems) expect(problem).not.toContain('\n');
});

describe('tracerOptionsFromEnvironment', () => {
  /** A tracer from `env`, with an OTLP "reporter" that keeps spans in memory and the options it was made with. */
  function tracerFrom(env: NodeJS.ProcessEnv): { tracer: Tracer; reporters: Reporter[]; otlp: OtlpReporterEnvOptions[] } {
    const otlp: OtlpReporterEnvOptions[] = [];
    const setup = tracerOptionsFromEnvironment(env, (options) => {
      otlp.push(options);
      return new MemoryReporter();
    });
    if (setup.kind !== 'traced') throw new Error(`untraced: ${setup.problems.join('; ')}`);
    const tracer = createTracer({ ...setup.options, global: false });
    tracers.push(tracer);
    return { tracer, reporters: setup.options.reporter as Reporter[], otlp };
  }

  it('makes a Zipkin HttpReporter, a ConsoleReporter, or the OTLP reporter the caller builds', () => {
    const { reporters, otlp } = tracerFrom({ OTEL_TRACES_EXPORTER: 'zipkin,console,otlp', OTEL_EXPORTER_OTLP_HEADERS: 'k=v' });
    expect(reporters[0]).toBeInstanceOf(HttpReporter);
    expect(reporters[1]).toBeInstanceOf(ConsoleReporter);
    expect(reporters[2]).toBeInstanceOf(MemoryReporter);
    expect(otlp).toEqual([{ url: new URL('http://localhost:4318/v1/traces'), encoding: 'protobuf', headers: { k: 'v' }, exitTimeout: 2000 }]);
    expect(tracerFrom({ OTEL_TRACES_EXPORTER: 'none' }).reporters).toEqual([]);
  });

  it('posts to the endpoint variables as they are, custom paths included, as OpenTelemetry defines them', () => {
    const { reporters } = tracerFrom({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://proxy:8080/zipkin/spans' });
    expect((reporters[0] as HttpReporter).url.href).toBe('http://proxy:8080/zipkin/spans');
    const real = tracerOptionsFromEnvironment({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://gateway.example/custom/traces' }, (o) => new OtlpReporter(o));
    expect(real.kind).toBe('traced');
    const otlpReporter = (real as unknown as { options: { reporter: Reporter[] } }).options.reporter[0] as OtlpReporter;
    expect(otlpReporter.url.href).toBe('https://gateway.example/custom/traces');
    void otlpReporter.close();
    // The reporters' own url option still adds the path to a base.
    const based = new OtlpReporter({ url: 'http://collector:4318/otlp' });
    expect(based.url.href).toBe('http://collector:4318/otlp/v1/traces');
    void based.close();
  });

  it('gives the service name, the id length and joining', () => {
    const setup = tracerOptionsFromEnvironment({ OTEL_SERVICE_NAME: 'cart', ZIPTRACE_TRACE_ID_128BIT: 'false', ZIPTRACE_SUPPORTS_JOIN: 'false', OTEL_TRACES_EXPORTER: 'none' });
    expect(setup).toMatchObject({ kind: 'traced', options: { serviceName: 'cart', traceId128Bit: false, supportsJoin: false, reporter: [] }, config: { flushTimeout: 2000 } });
  });

  it('is untraced, saying nothing, when disabled; untraced with the problems when something is wrong', () => {
    expect(tracerOptionsFromEnvironment({ OTEL_SDK_DISABLED: 'true' })).toEqual({ kind: 'untraced', reason: 'disabled', problems: [] });
    expect(tracerOptionsFromEnvironment({ OTEL_TRACES_SAMPLER: 'xray' })).toEqual({ kind: 'untraced', reason: 'problems', problems: [expect.stringMatching(/^OTEL_TRACES_SAMPLER="xray": xray is not supported/)] });
  });

  it('says OTLP cannot be sent when no OTLP reporter is given, naming what asked for it', () => {
    expect(tracerOptionsFromEnvironment({ OTEL_TRACES_EXPORTER: 'console,otlp' })).toEqual({
      kind: 'untraced',
      reason: 'problems',
      problems: ['OTEL_TRACES_EXPORTER="console,otlp" asks for OTLP, which this start of ziptrace cannot send (no OTLP reporter was given); use zipkin or console'],
    });
    expect(tracerOptionsFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({
      kind: 'untraced',
      problems: ['OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set, which asks for OTLP, which this start of ziptrace cannot send (no OTLP reporter was given); use zipkin or console'],
    });
  });

  it('turns a reporter that refuses its options into a problem, and closes the reporters already made', async () => {
    const closed: string[] = [];
    const original = HttpReporter.prototype.close;
    HttpReporter.prototype.close = function (this: HttpReporter, options?: { timeout?: number }) {
      closed.push('zipkin');
      return original.call(this, options);
    };
    try {
      const setup = tracerOptionsFromEnvironment({ OTEL_TRACES_EXPORTER: 'zipkin,otlp' }, () => {
        throw new TypeError('ziptrace: OtlpReporter: encoding must be protobuf or json');
      });
      expect(setup).toEqual({ kind: 'untraced', reason: 'problems', problems: ['OTEL_TRACES_EXPORTER (otlp): the reporter refused the options made from the environment: OtlpReporter: encoding must be protobuf or json'] });
      expect(closed).toEqual(['zipkin']);
      const odd = tracerOptionsFromEnvironment({ OTEL_TRACES_EXPORTER: 'otlp' }, () => {
        throw 'a string';
      });
      expect(odd).toEqual({ kind: 'untraced', reason: 'problems', problems: ['OTEL_TRACES_EXPORTER (otlp): the reporter refused the options made from the environment: "a string"'] });
    } finally {
      HttpReporter.prototype.close = original;
    }
  });

  describe('sampling: parentbased_* keeps the caller\'s decision, the others ignore it', () => {
    const sampledHeader = { 'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' };
    const unsampledHeader = { ...sampledHeader, 'x-b3-sampled': '0' };
    const debugHeader = { ...sampledHeader, 'x-b3-sampled': undefined, 'x-b3-flags': '1' };

    it.each([
      // sampler, incoming sampled=1, incoming sampled=0, incoming debug, new trace
      ['parentbased_always_on', true, false, true, true],
      ['parentbased_always_off', true, false, true, false],
      ['always_on', true, true, true, true],
      ['always_off', false, false, false, false],
    ])('%s', (sampler, fromSampled, fromUnsampled, fromDebug, root) => {
      const { tracer } = tracerFrom({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_EXPORTER: 'none' });
      const recorded = (headers: Record<string, string | undefined> | undefined): boolean => {
        const span = headers === undefined ? tracer.newTrace('root') : tracer.joinSpan(tracer.extract(headers), 'server');
        const recording = span.isRecording;
        span.finish();
        return recording;
      };
      expect([recorded(sampledHeader), recorded(unsampledHeader), recorded(debugHeader), recorded(undefined)]).toEqual([fromSampled, fromUnsampled, fromDebug, root]);
    });

    it('traceidratio decides a caller\'s trace by its id, as sampledByRate does; parentbased_traceidratio keeps the caller\'s decision', () => {
      const ids = Array.from({ length: 200 }, (_, i) => ((BigInt(i) * 0x9e3779b97f4a7c15n) % 2n ** 128n).toString(16).padStart(32, '1'));
      const ratio = tracerFrom({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5', OTEL_TRACES_EXPORTER: 'none' }).tracer;
      const parented = tracerFrom({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5', OTEL_TRACES_EXPORTER: 'none' }).tracer;
      let decidedByRate = 0;
      for (const traceId of ids) {
        const headers = { ...sampledHeader, 'x-b3-traceid': traceId };
        const a = ratio.joinSpan(ratio.extract(headers), 'a');
        const b = parented.joinSpan(parented.extract(headers), 'b');
        expect(a.isRecording).toBe(sampledByRate(traceId, 0.5));
        expect(b.isRecording).toBe(true);
        if (!a.isRecording) decidedByRate++;
        a.finish();
        b.finish();
      }
      expect(decidedByRate).toBeGreaterThan(50);
    });
  });

  describe('propagation', () => {
    const ids = { traceId: '463ac35c9f6413ad48485a3953bb6124', spanId: 'a2fb4a1d1a96d312' };
    const b3Single = { b3: `${ids.traceId}-${ids.spanId}-1` };
    const b3Multi = { 'x-b3-traceid': ids.traceId, 'x-b3-spanid': ids.spanId, 'x-b3-sampled': '1' };
    const w3c = { traceparent: `00-${ids.traceId}-${ids.spanId}-01` };

    it.each<[string | undefined, string[], (keyof typeof formats)[]]>([
      [undefined, ['x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'traceparent'], ['b3Single', 'b3Multi', 'w3c']],
      ['b3', ['b3'], ['b3Single', 'b3Multi']],
      ['b3multi', ['x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled'], ['b3Single', 'b3Multi']],
      ['tracecontext', ['traceparent'], ['w3c']],
      ['tracecontext,baggage', ['traceparent'], ['w3c']],
      ['none', [], []],
    ])('OTEL_PROPAGATORS=%s writes %j and reads %j', (value, written, read) => {
      const { tracer } = tracerFrom({ OTEL_PROPAGATORS: value, OTEL_TRACES_EXPORTER: 'none' });
      const headers: Record<string, string> = {};
      const span = tracer.newTrace('out');
      tracer.inject(span, headers);
      span.finish();
      expect(Object.keys(headers).filter((k) => k !== 'tracestate').sort()).toEqual([...written].sort());
      for (const [name, carrier] of Object.entries(formats)) {
        expect(tracer.extract(carrier)?.traceId === ids.traceId, `${value} reads ${name}`).toBe(read.includes(name as keyof typeof formats));
      }
    });
    const formats = { b3Single, b3Multi, w3c };
  });
});
