/**
 * HttpReporter's options resolved on their own: the defaults the README
 * promises, gzip's three forms, the loggers, and that a failed check is one
 * InvalidOptionError naming every problem. (The messages for each option are
 * in http.spec.ts, through the constructor.)
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../lib/index.js';
import { collectorUrlProblem, resolveHttpReporterOptions, type HttpReporterOptions } from '../../lib/reporting/http-options.js';
import { silentLogger } from '../../lib/reporting/warnings.js';

describe('resolveHttpReporterOptions', () => {
  it('fills in the documented defaults', () => {
    const { url, logger, ...rest } = resolveHttpReporterOptions({ url: 'http://zipkin:9411' });
    expect(url.href).toBe('http://zipkin:9411/api/v2/spans');
    expect(typeof logger.warn).toBe('function');
    expect(logger).not.toBe(silentLogger);
    expect(rest).toEqual({
      batchInterval: 1000,
      maxBatchSpans: 1000,
      maxBatchBytes: 1024 * 1024,
      maxQueueSpans: 10_000,
      maxQueueBytes: 16 * 1024 * 1024,
      maxInFlight: 2,
      timeout: 10_000,
      maxRetries: 5,
      exitTimeout: 2000,
      backoffInitial: 200,
      backoffMax: 30_000,
      gzipThreshold: 1024,
      headers: undefined,
      tls: undefined,
    });
  });

  it('takes gzip as true, false (never: an infinite threshold) or { threshold }', () => {
    const threshold = (gzip: HttpReporterOptions['gzip']): number => resolveHttpReporterOptions({ url: 'http://zipkin:9411', gzip }).gzipThreshold;
    expect([threshold(true), threshold(false), threshold({ threshold: 0 }), threshold({}), threshold(undefined)]).toEqual([1024, Infinity, 0, 1024, 1024]);
  });

  it('leaves gzip off by default for a collector on this machine by its URL, and on for any other; given, it is as given', () => {
    const threshold = (url: string, gzip?: HttpReporterOptions['gzip']): number => resolveHttpReporterOptions({ url, ...(gzip === undefined ? {} : { gzip }) }).gzipThreshold;
    const here = ['http://localhost:9411', 'http://LOCALHOST:9411', 'http://localhost.:9411', 'http://zipkin.localhost', 'http://127.0.0.1:9411', 'http://127.1.2.3', 'http://127.1', 'http://[::1]:9411', 'http://[0:0:0:0:0:0:0:1]', 'http://[::ffff:127.0.0.1]', 'http://[::ffff:127.255.255.255]', 'http://a.localhost.', 'http://0.0.0.0:9411', 'http://[::]:9411', 'https://localhost'];
    const elsewhere = ['http://zipkin:9411', 'http://10.0.0.7:9411', 'http://128.0.0.1', 'http://localhost.example.com', 'http://mylocalhost', 'http://[::2]', 'http://[::ffff:10.0.0.1]', 'http://[::127.0.0.1]', 'http://127.0.0.1.nip.io', 'http://0.0.0.1', 'https://tempo.example.com'];
    for (const url of here) expect(threshold(url), url).toBe(Infinity);
    for (const url of elsewhere) expect(threshold(url), url).toBe(1024);
    // Asked for, gzip is on whatever the host; turned off, off.
    expect([threshold('http://localhost:9411', true), threshold('http://127.0.0.1', { threshold: 10 }), threshold('http://zipkin:9411', false)]).toEqual([1024, 10, Infinity]);
  });

  it('logger false is the silent logger; a given logger is told every warning, and what it throws stays with it', () => {
    const told: [string, string][] = [];
    const mine = {
      warn: (message: string, kind: string) => {
        told.push([message, kind]);
        throw new Error('sink down');
      },
    };
    expect(resolveHttpReporterOptions({ url: 'http://zipkin:9411', logger: false }).logger).toBe(silentLogger);
    const logger = resolveHttpReporterOptions({ url: 'http://zipkin:9411', logger: mine }).logger;
    expect(() => logger.warn('ziptrace: x', 'queue-full')).not.toThrow();
    expect(told).toEqual([['ziptrace: x', 'queue-full']]);
  });

  it('copies the URL it is given', () => {
    const given = new URL('http://zipkin:9411/zipkin/');
    const { url } = resolveHttpReporterOptions({ url: given });
    expect(url.href).toBe('http://zipkin:9411/zipkin/api/v2/spans');
    expect(url).not.toBe(given);
    expect(given.pathname).toBe('/zipkin/');
  });

  it('throws one InvalidOptionError naming every problem, unknown keys first', () => {
    let error: unknown;
    try {
      resolveHttpReporterOptions({ url: 'ftp://x', batchIntervall: 5, timeout: 0, retryBackoff: { maximum: 5 } } as unknown as HttpReporterOptions);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('ZIPTRACE_INVALID_OPTION');
    expect((error as Error).message).toBe(
      'ziptrace: HttpReporter: batchIntervall is not an option of HttpReporter; did you mean batchInterval?; ' +
        'url must be http: or https:, got ftp:; ' +
        'maximum is not an option of HttpReporter({ retryBackoff }); known: initial, max; ' +
        'timeout must be a positive number of milliseconds, got 0',
    );
  });

  it('does not look for keys in a retryBackoff or gzip that is not an object', () => {
    // A string's indices are not option names; such values fall back to the defaults, as they always did.
    expect(resolveHttpReporterOptions({ url: 'http://zipkin:9411', retryBackoff: 'fast' as never, gzip: 'yes' as never })).toMatchObject({ backoffInitial: 200, gzipThreshold: 1024 });
  });
});

describe('collectorUrlProblem', () => {
  it('is undefined for an http: or https: URL, given as text or as a URL, base or full', () => {
    for (const url of ['http://zipkin:9411', 'https://zipkin.example.com/', 'http://127.0.0.1:9411/api/v2/spans', 'http://zipkin:9411/zipkin', new URL('https://zipkin:9411')]) {
      expect(collectorUrlProblem(url), String(url)).toBeUndefined();
    }
  });

  const bad: [string, unknown, string][] = [
    ['another scheme', 'ftp://127.0.0.1:9411', 'url must be http: or https:, got ftp:'],
    ['another scheme, as a URL', new URL('file:///tmp/spans'), 'url must be http: or https:, got file:'],
    ['not a URL', 'zipkin:9411x', 'url must be http: or https:, got zipkin:'],
    ['no URL at all', 'not a url', `url must be the collector's address such as 'http://127.0.0.1:9411', got "not a url"`],
    ['empty', '', `url must be the collector's address such as 'http://127.0.0.1:9411', got ""`],
    ['missing', undefined, `url must be the collector's address such as 'http://127.0.0.1:9411', got "undefined"`],
    ['a number', 9411, `url must be the collector's address such as 'http://127.0.0.1:9411', got "9411"`],
  ];
  for (const [what, url, problem] of bad) {
    it(`names the problem with ${what}, in the very words of HttpReporter's own check`, () => {
      expect(collectorUrlProblem(url)).toBe(problem);
      expect(() => resolveHttpReporterOptions({ url: url as string, logger: false })).toThrow(new InvalidOptionError(`ziptrace: HttpReporter: ${problem}`));
    });
  }

  it('does not change the URL object it is given', () => {
    const given = new URL('http://zipkin:9411/zipkin/');
    collectorUrlProblem(given);
    expect(given.href).toBe('http://zipkin:9411/zipkin/');
  });
});
