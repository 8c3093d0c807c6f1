/**
 * The read API's query strings, with Zipkin's defaults and checks
 * (ZipkinQueryApiV2, QueryRequest.Builder.build and parseAnnotationQuery;
 * case names follow QueryRequestTest where they mirror it).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMIT, DEFAULT_LOOKBACK_MS, parseAnnotationQuery, parseDependenciesQuery, parseTraceQuery } from '../../lib/viewer/query.js';

const NOW = 1_700_000_000_000;
const q = (text: string) => parseTraceQuery(new URLSearchParams(text), NOW);

describe('parseTraceQuery', () => {
  it('defaults: endTs now, lookback one day, limit 10', () => {
    expect(q('')).toEqual({ endTs: NOW, lookback: 86_400_000, limit: 10 });
    expect(DEFAULT_LOOKBACK_MS).toBe(86_400_000);
    expect(DEFAULT_LIMIT).toBe(10);
  });

  it.each([
    ['serviceName lower-cased (serviceNameCoercesToLowercase)', 'serviceName=FrontEnd', { serviceName: 'frontend' }],
    ['remoteServiceName lower-cased', 'remoteServiceName=DB', { remoteServiceName: 'db' }],
    ['spanName lower-cased (spanNameCoercesToLowercase)', 'spanName=GET', { spanName: 'get' }],
    ['empty names are unset', 'serviceName=&spanName=&remoteServiceName=', {}],
    ['spanName "all" is unset (spanName_all)', 'spanName=all', {}],
    ['spanName "ALL" is unset too (lower-cased first)', 'spanName=ALL', {}],
    ['serviceName "all" is a service name (Zipkin reserves "all" only for spanName)', 'serviceName=all', { serviceName: 'all' }],
    ['endTs, lookback and limit taken', 'endTs=5&lookback=3&limit=2', { endTs: 5, lookback: 3, limit: 2 }],
    ['minDuration alone', 'minDuration=100', { minDuration: 100 }],
    ['min and max', 'minDuration=100&maxDuration=200', { minDuration: 100, maxDuration: 200 }],
    ['max equal to min', 'minDuration=100&maxDuration=100', { minDuration: 100, maxDuration: 100 }],
    ['a leading plus sign, as Long.parseLong takes', 'limit=%2B3', { limit: 3 }],
    ['an empty number is not given', 'minDuration=&endTs=&limit=', {}],
    ['annotationQuery parsed', 'annotationQuery=error%20and%20http.method%3DGET', { annotationQuery: { error: '', 'http.method': 'GET' } }],
    ['empty annotationQuery unset', 'annotationQuery=', {}],
  ])('%s', (_name, text, expected) => {
    expect(q(text)).toEqual({ endTs: NOW, lookback: DEFAULT_LOOKBACK_MS, limit: DEFAULT_LIMIT, ...expected });
  });

  it.each([
    ['endTs zero (endTsMustBePositive)', 'endTs=0', 'endTs must be greater than 0, got 0'],
    ['endTs negative', 'endTs=-1', 'endTs must be greater than 0, got -1'],
    ['limit zero (limitMustBePositive)', 'limit=0', 'limit must be greater than 0, got 0'],
    ['lookback zero (lookbackMustBePositive)', 'lookback=0', 'lookback must be greater than 0, got 0'],
    ['minDuration zero (minDurationMustBePositive)', 'minDuration=0', 'minDuration must be greater than 0, got 0'],
    ['maxDuration without minDuration (maxDurationOnlyWithMinDuration)', 'maxDuration=5', 'maxDuration is only valid with minDuration'],
    ['maxDuration below minDuration (maxDurationMustBeGreaterThanMinDuration)', 'minDuration=5&maxDuration=4', 'maxDuration (4) must not be less than minDuration (5)'],
    ['limit not a number', 'limit=ten', 'limit "ten" is not an integer'],
    ['limit fractional', 'limit=1.5', 'limit "1.5" is not an integer'],
    ['limit beyond an int', 'limit=2147483648', 'limit "2147483648" is out of range'],
    ['endTs with spaces', 'endTs=%201', 'endTs " 1" is not an integer'],
    ['minDuration not a number', 'minDuration=1ms', 'minDuration "1ms" is not an integer'],
    ['maxDuration not a number', 'minDuration=1&maxDuration=x', 'maxDuration "x" is not an integer'],
    ['lookback not a number', 'lookback=1d', 'lookback "1d" is not an integer'],
    ['endTs beyond 2^53', 'endTs=99999999999999999999', 'endTs "99999999999999999999" is out of range'],
  ])('refuses %s', (_name, text, error) => {
    expect(q(text)).toEqual({ error });
  });
});

describe('parseAnnotationQuery (QueryRequest.Builder.parseAnnotationQuery)', () => {
  it.each([
    ['annotationQuery_tagKeyAndValue', 'http.method=GET', { 'http.method': 'GET' }],
    ['annotationQuery_keyOnly', 'error', { error: '' }],
    ['annotationQuery_multiple', 'error and http.method=GET and finagle.retry', { error: '', 'http.method': 'GET', 'finagle.retry': '' }],
    ['annotationQuery_trims', ' error  and  http.method = GET ', { error: '', 'http.method': 'GET' }],
    ['annotationQuery_valueKeepsEquals', 'http.url=/a?b=c', { 'http.url': '/a?b=c' }],
    ['annotationQuery_emptyValue', 'http.method=', { 'http.method': '' }],
    ['a bare key never overrides key=value', 'error=500 and error', { error: '500' }],
    ['the last key=value wins', 'error=1 and error=2', { error: '2' }],
    ['key=value overrides a bare key', 'error and error=2', { error: '2' }],
    ['empty keys are dropped', 'error and  and =x', { error: '' }],
    ['"and" without spaces is not a separator', 'errorandwarn', { errorandwarn: '' }],
    ['case is kept', 'Error', { Error: '' }],
  ])('%s', (_name, text, expected) => {
    expect({ ...parseAnnotationQuery(text) }).toEqual(expected);
  });

  it('keeps a __proto__ key as a key', () => {
    const parsed = parseAnnotationQuery('__proto__=x and constructor');
    expect(Object.keys(parsed)).toEqual(['__proto__', 'constructor']);
    expect(parsed['__proto__']).toBe('x');
  });

  it('splits at most 100 terms, the last keeping the rest', () => {
    const terms = Array.from({ length: 102 }, (_, i) => `k${i}`);
    const parsed = parseAnnotationQuery(terms.join(' and '));
    expect(Object.keys(parsed)).toHaveLength(100);
    expect(parsed['k99 and k100 and k101']).toBe('');
  });
});

describe('parseDependenciesQuery', () => {
  const d = (text: string, now?: number) => parseDependenciesQuery(new URLSearchParams(text), now);

  it.each([
    ['endTs given, lookback default', 'endTs=100', undefined, { endTs: 100, lookback: 86_400_000 }],
    ['both given', 'endTs=100&lookback=50', undefined, { endTs: 100, lookback: 50 }],
    ['endTs from nowMs when given', '', NOW, { endTs: NOW, lookback: 86_400_000 }],
    ['endTs given wins over nowMs', 'endTs=7', NOW, { endTs: 7, lookback: 86_400_000 }],
  ])('%s', (_name, text, now, expected) => {
    expect(d(text, now)).toEqual(expected);
  });

  it.each([
    ['endTs missing without nowMs (Zipkin requires it)', '', 'endTs is required (epoch milliseconds)'],
    ['endTs zero', 'endTs=0', 'endTs must be greater than 0, got 0'],
    ['lookback zero', 'endTs=1&lookback=0', 'lookback must be greater than 0, got 0'],
    ['endTs not a number', 'endTs=now', 'endTs "now" is not an integer'],
    ['lookback not a number', 'endTs=1&lookback=x', 'lookback "x" is not an integer'],
  ])('refuses %s', (_name, text, error) => {
    expect(d(text)).toEqual({ error });
  });
});
