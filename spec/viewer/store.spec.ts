/**
 * SpanStore keeps spans as Zipkin's InMemoryStorage (strictTraceId=true)
 * does and answers its queries with QueryRequest.test's rules. Query cases
 * are named after Zipkin's ITSpanStore / QueryRequestTest where they mirror them.
 */
import { describe, expect, it } from 'vitest';
import type { SpanKind } from '../../lib/types.js';
import { parseTraceQuery } from '../../lib/viewer/query.js';
import { SpanStore } from '../../lib/viewer/store.js';
import type { StoredSpan, TraceQuery } from '../../lib/viewer/types.js';

const TODAY_MS = 1_700_000_000_000;
const TODAY = TODAY_MS * 1000; // µs
const DAY = 86_400_000;

interface Opts {
  parentId?: string;
  kind?: SpanKind;
  name?: string;
  service?: string;
  remote?: string;
  ts?: number;
  duration?: number;
  tags?: Record<string, string>;
  annotations?: string[];
  shared?: true;
}

function span(traceId: string, id: string, o: Opts = {}): StoredSpan {
  const s: StoredSpan = { traceId: traceId.length <= 16 ? traceId.padStart(16, '0') : traceId.padStart(32, '0'), id: id.padStart(16, '0') };
  if (o.parentId !== undefined) s.parentId = o.parentId.padStart(16, '0');
  if (o.kind !== undefined) s.kind = o.kind;
  if (o.name !== undefined) s.name = o.name;
  if (o.ts !== undefined) s.timestamp = o.ts;
  if (o.duration !== undefined) s.duration = o.duration;
  if (o.service !== undefined) s.localEndpoint = { serviceName: o.service };
  if (o.remote !== undefined) s.remoteEndpoint = { serviceName: o.remote };
  if (o.annotations !== undefined) s.annotations = o.annotations.map((value, i) => ({ timestamp: (o.ts ?? TODAY) + i, value }));
  if (o.tags !== undefined) s.tags = o.tags;
  if (o.shared !== undefined) s.shared = o.shared;
  return s;
}

const id16 = (n: number | string): string => String(n).padStart(16, '0');
const query = (q: Partial<TraceQuery> = {}): TraceQuery => ({ endTs: TODAY_MS + 1000, lookback: DAY, limit: 10, ...q });
const ids = (traces: StoredSpan[][]): string[] => traces.map((t) => t[0]!.traceId);

describe('SpanStore: accept, counts and lookup', () => {
  it('stores spans and returns the trace ids touched, each once', () => {
    const store = new SpanStore();
    expect(store.accept([span('a', '1'), span('b', '2'), span('a', '3')])).toEqual([id16('a'), id16('b')]);
    expect(store.spanCount).toBe(3);
    expect(store.traceCount).toBe(2);
    expect(store.accept([])).toEqual([]);
  });

  it('trace() merges the parts of a span, and sees parts that arrive later', () => {
    const store = new SpanStore();
    store.accept([span('a', '1', { kind: 'CLIENT', service: 'web', ts: TODAY })]);
    expect(store.trace('a')).toEqual([span('a', '1', { kind: 'CLIENT', service: 'web', ts: TODAY })]);
    store.accept([span('a', '1', { service: 'web', duration: 5 })]);
    expect(store.trace('a')).toEqual([span('a', '1', { kind: 'CLIENT', service: 'web', ts: TODAY, duration: 5 })]);
  });

  it.each([
    ['the normal form', '000000000000000a', true],
    ['short, left-padded', 'a', true],
    ['upper-case', '000000000000000A', true],
    ['32 digits with a zero upper half', '0000000000000000000000000000000a', true],
    ['not hex', 'xyz', false],
    ['too long', 'a'.repeat(33), false],
    ['empty', '', false],
    ['unknown', 'b', false],
  ])('trace() finds a 64-bit trace by %s: %s', (_name, asked, found) => {
    const store = new SpanStore();
    store.accept([span('a', '1')]);
    expect(store.trace(asked) !== undefined).toBe(found);
  });

  it('is strict about trace ids: a 128-bit trace and its lower half are two traces', () => {
    const store = new SpanStore();
    const high = '463ac35c9f6413ad48485a3953bb6124';
    store.accept([span(high, '1', { ts: TODAY }), span('48485a3953bb6124', '2', { ts: TODAY })]);
    expect(store.traceCount).toBe(2);
    expect(store.trace(high)!.map((s) => s.id)).toEqual([id16('1')]);
    expect(store.trace(high.toUpperCase())!.map((s) => s.id)).toEqual([id16('1')]);
    expect(store.trace('48485a3953bb6124')!.map((s) => s.id)).toEqual([id16('2')]);
    expect(store.traces(query()).map((t) => t.length)).toEqual([1, 1]);
  });

  it('traceMany() gives the known traces in the order asked, each once', () => {
    const store = new SpanStore();
    store.accept([span('a', '1'), span('b', '2'), span('c', '3')]);
    expect(ids(store.traceMany(['C', 'a', 'zz', 'unknown', '000000000000000c', 'ffff']))).toEqual([id16('c'), id16('a')]);
    expect(store.traceMany([])).toEqual([]);
  });

  it('returns copies of its arrays: changing one does not change the store', () => {
    const store = new SpanStore();
    store.accept([span('a', '1'), span('a', '2')]);
    store.trace('a')!.pop();
    expect(store.trace('a')).toHaveLength(2);
    store.allSpans().pop();
    expect(store.spanCount).toBe(2);
  });

  it('allSpans() gives every span unmerged, trace by trace in the order first received', () => {
    const store = new SpanStore();
    const spans = [span('b', '1'), span('a', '2'), span('b', '1', { duration: 3 })];
    store.accept(spans);
    expect(store.allSpans()).toEqual([spans[0], spans[2], spans[1]]);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxSpans %s', (maxSpans) => {
    expect(() => new SpanStore({ maxSpans })).toThrow(RangeError);
  });
});

describe('SpanStore: eviction', () => {
  it('evicts whole traces, the first received first, to stay within maxSpans', () => {
    const store = new SpanStore({ maxSpans: 4 });
    store.accept([span('a', '1', { service: 'old' }), span('a', '2', { service: 'old' })]);
    store.accept([span('b', '1', { service: 'mid' }), span('c', '1', { service: 'new' })]);
    expect(store.evictedSpans).toBe(0);
    // Trace a gets a span later: it keeps its (first) place in line.
    expect(store.accept([span('a', '3', { service: 'old' })])).toEqual([]);
    expect(store.trace('a')).toBeUndefined();
    expect(store.spanCount).toBe(2);
    expect(store.evictedSpans).toBe(3);
    expect(store.evictedTraces).toBe(1);
    expect(store.serviceNames()).toEqual(['mid', 'new']);
  });

  it('evicts the trace just touched when it alone is over the bound', () => {
    const store = new SpanStore({ maxSpans: 2 });
    expect(store.accept([span('a', '1'), span('a', '2'), span('a', '3')])).toEqual([]);
    expect(store.spanCount).toBe(0);
    expect(store.traceCount).toBe(0);
    expect(store.evictedTraces).toBe(1);
  });

  it('takes names of evicted spans out of the indexes, keeping those still used', () => {
    const store = new SpanStore({ maxSpans: 2 });
    store.accept([span('a', '1', { service: 'web', name: 'gone', remote: 'db' })]);
    store.accept([span('b', '1', { service: 'web', name: 'kept' })]);
    store.accept([span('c', '1', { service: 'api' })]);
    expect(store.serviceNames()).toEqual(['api', 'web']);
    expect(store.spanNames('web')).toEqual(['kept']);
    expect(store.remoteServiceNames('web')).toEqual([]);
  });
});

describe('SpanStore: names', () => {
  const store = new SpanStore();
  store.accept([
    span('a', '1', { service: 'web', name: 'get /', remote: 'db' }),
    span('a', '2', { service: 'web', name: 'post /', remote: 'cache' }),
    span('a', '3', { service: 'api', name: 'get /' }),
    span('a', '4', { name: 'no service', remote: 'x' }),
  ]);

  it('serviceNames() are the local service names, sorted', () => {
    expect(store.serviceNames()).toEqual(['api', 'web']);
  });

  it('spanNames() and remoteServiceNames() are per service, sorted, the service lower-cased first', () => {
    expect(store.spanNames('WEB')).toEqual(['get /', 'post /']);
    expect(store.remoteServiceNames('web')).toEqual(['cache', 'db']);
    expect(store.spanNames('unknown')).toEqual([]);
    expect(store.remoteServiceNames('')).toEqual([]);
  });
});

describe('SpanStore: span names kept as sent, listed and matched lower-cased', () => {
  const store = new SpanStore();
  store.accept([
    span('a', '1', { service: 'users', name: 'Slow SQL', ts: TODAY - 2000 }),
    span('b', '2', { service: 'users', name: 'slow sql', ts: TODAY - 1000 }),
    span('c', '3', { service: 'users', name: 'GET /users/:id', ts: TODAY - 3000 }),
  ]);
  const parsed = (text: string): TraceQuery => {
    const q = parseTraceQuery(new URLSearchParams(text), TODAY_MS + 1000);
    if ('error' in q) throw new Error(q.error);
    return q;
  };

  it('trace() returns the name as sent', () => {
    expect(store.trace('a')?.map((s) => s.name)).toEqual(['Slow SQL']);
    expect(store.trace('b')?.map((s) => s.name)).toEqual(['slow sql']);
  });

  it('spanNames() lists each name lower-cased, once, whatever case it came in', () => {
    expect(store.spanNames('users')).toEqual(['get /users/:id', 'slow sql']);
  });

  it('a spanName query matches whatever case the span was sent in', () => {
    expect(parsed('spanName=SLOW SQL').spanName).toBe('slow sql');
    expect(ids(store.traces(parsed('spanName=slow sql')))).toEqual([id16('b'), id16('a')]);
    expect(ids(store.traces(parsed('spanName=SLOW SQL')))).toEqual([id16('b'), id16('a')]);
    expect(ids(store.traces(parsed('serviceName=Users&spanName=Get /Users/:ID')))).toEqual([id16('c')]);
    expect(store.traces(query({ spanName: 'slow sql' })).map((t) => t.map((s) => s.name))).toEqual([['slow sql'], ['Slow SQL']]);
  });

  it('forgets a name once no span of the service has it in any case', () => {
    const small = new SpanStore({ maxSpans: 2 });
    small.accept([span('a', '1', { service: 'users', name: 'Slow SQL' }), span('b', '2', { service: 'users', name: 'slow sql' })]);
    expect(small.spanNames('users')).toEqual(['slow sql']);
    small.accept([span('c', '3', { service: 'users', name: 'other' })]);
    expect(small.spanNames('users')).toEqual(['other', 'slow sql']);
    small.accept([span('d', '4', { service: 'users', name: 'other' })]);
    expect(small.spanNames('users')).toEqual(['other']);
  });
});

describe('SpanStore: autocomplete', () => {
  it('with no keys configured, offers every tag key seen and its values, sorted', () => {
    const store = new SpanStore();
    store.accept([span('a', '1', { tags: { 'http.method': 'POST', env: 'prod' } }), span('a', '2', { tags: { 'http.method': 'GET' } })]);
    expect(store.autocompleteKeys()).toEqual(['env', 'http.method']);
    expect(store.autocompleteValues('http.method')).toEqual(['GET', 'POST']);
    expect(store.autocompleteValues('nope')).toEqual([]);
  });

  it('with keys configured, offers only those (as given, seen or not), as Zipkin does', () => {
    const store = new SpanStore({ autocompleteKeys: ['env', 'region', 'env'] });
    store.accept([span('a', '1', { tags: { env: 'prod', 'http.method': 'GET' } })]);
    expect(store.autocompleteKeys()).toEqual(['env', 'region']);
    expect(store.autocompleteValues('env')).toEqual(['prod']);
    expect(store.autocompleteValues('region')).toEqual([]);
    expect(store.autocompleteValues('http.method')).toEqual([]);
  });

  it('bounds what it indexes: 1000 keys, 1000 values a key', () => {
    const store = new SpanStore();
    const tags: Record<string, string> = {};
    for (let i = 0; i < 1100; i++) tags[`k${String(i).padStart(4, '0')}`] = 'v';
    store.accept([span('a', '1', { tags })]);
    for (let i = 0; i < 1100; i++) store.accept([span('b', String(i + 1), { tags: { k0000: `v${i}` } })]);
    expect(store.autocompleteKeys()).toHaveLength(1000);
    expect(store.autocompleteKeys()).not.toContain('k1000');
    expect(store.autocompleteValues('k0000')).toHaveLength(1000);
  });

  it('bounds the index on its own, since it outlives evicted spans: no value past 256 characters, 100,000 values in all', () => {
    const store = new SpanStore({ maxSpans: 1 });
    store.accept([span('a', '1', { tags: { note: 'x'.repeat(257), short: 'x'.repeat(256) } })]);
    expect(store.autocompleteValues('note')).toEqual([]);
    expect(store.autocompleteValues('short')).toEqual(['x'.repeat(256)]);
    for (let batch = 0; batch < 110; batch++) {
      for (let i = 0; i < 1000; i++) store.accept([span(`b${batch}`, String(i + 1), { tags: { [`k${batch}`]: `v${i}` } })]);
    }
    expect(store.spanCount).toBeLessThanOrEqual(1);
    const total = store.autocompleteKeys().reduce((sum, key) => sum + store.autocompleteValues(key).length, 0);
    expect(total).toBe(100_000);
  });
});

describe('SpanStore.traces (QueryRequest.test, InMemoryStorage.getTraces)', () => {
  // A trace per case: web (SERVER root) calls db (CLIENT child).
  function rpc(traceId: string, ts: number, o: { name?: string; duration?: number; childDuration?: number; tags?: Record<string, string>; annotations?: string[] } = {}): StoredSpan[] {
    return [
      span(traceId, '1', { kind: 'SERVER', service: 'web', name: o.name ?? 'get /', ts, duration: o.duration ?? 100, ...(o.tags ? { tags: o.tags } : {}), ...(o.annotations ? { annotations: o.annotations } : {}) }),
      span(traceId, '2', { parentId: '1', kind: 'CLIENT', service: 'web', remote: 'db', name: 'query', ts: ts + 10, duration: o.childDuration ?? 50 }),
      span(traceId, '3', { parentId: '2', kind: 'SERVER', service: 'db', name: 'select', ts: ts + 20, duration: 30, tags: { 'db.table': 'users' } }),
    ];
  }

  const store = new SpanStore();
  store.accept([
    ...rpc('a', TODAY - 3000, { tags: { 'http.method': 'GET' } }),
    ...rpc('b', TODAY - 2000, { name: 'post /', duration: 500, tags: { 'http.method': 'POST', error: 'boom' } }),
    ...rpc('c', TODAY - 1000, { annotations: ['cache.miss'] }),
  ]);

  it.each<[string, Partial<TraceQuery>, string[]]>([
    ['getTraces: all, newest first', {}, ['c', 'b', 'a']],
    ['getTraces_limit', { limit: 2 }, ['c', 'b']],
    ['getTraces_serviceName', { serviceName: 'db' }, ['c', 'b', 'a']],
    ['getTraces_serviceName unknown', { serviceName: 'nope' }, []],
    ['getTraces_spanName', { spanName: 'post /' }, ['b']],
    ['getTraces_spanName constrained by serviceName', { serviceName: 'db', spanName: 'post /' }, []],
    ['getTraces_spanName of the service', { serviceName: 'db', spanName: 'select' }, ['c', 'b', 'a']],
    ['getTraces_remoteServiceName', { remoteServiceName: 'db' }, ['c', 'b', 'a']],
    ['getTraces_remoteServiceName constrained by serviceName', { serviceName: 'db', remoteServiceName: 'db' }, []],
    ['getTraces_tags key=value', { annotationQuery: { 'http.method': 'GET' } }, ['a']],
    ['getTraces_tags key alone', { annotationQuery: { error: '' } }, ['b']],
    ['getTraces_annotation value', { annotationQuery: { 'cache.miss': '' } }, ['c']],
    ['getTraces_annotation value does not match key=value', { annotationQuery: { 'cache.miss': 'x' } }, []],
    ['getTraces_tags all terms must match (AND)', { annotationQuery: { 'http.method': 'POST', error: '' } }, ['b']],
    ['getTraces_tags terms may match different spans', { annotationQuery: { 'http.method': 'POST', 'db.table': 'users' } }, ['b']],
    ['getTraces_tags constrained by serviceName', { serviceName: 'db', annotationQuery: { 'http.method': 'GET' } }, []],
    ['getTraces_minDuration', { minDuration: 400 }, ['b']],
    ['getTraces_minDuration any span counts', { minDuration: 100 }, ['c', 'b', 'a']],
    ['getTraces_minDuration and maxDuration: one span in range', { minDuration: 40, maxDuration: 60 }, ['c', 'b', 'a']],
    ['getTraces_maxDuration below every span', { minDuration: 1, maxDuration: 20 }, []],
    ['getTraces_duration constrained by serviceName', { serviceName: 'db', minDuration: 40 }, []],
    ['getTraces_endTs excludes later traces', { endTs: TODAY_MS - 3 }, ['a']],
    ['getTraces_lookback excludes earlier traces', { endTs: TODAY_MS, lookback: 1 }, ['c']],
    ['getTraces_lookback window edges are inclusive', { endTs: TODAY_MS - 1, lookback: 1 }, ['c', 'b']],
  ])('%s', (_name, q, expected) => {
    expect(ids(store.traces(query(q)))).toEqual(expected.map(id16));
  });

  it('returns merged traces', () => {
    const s = new SpanStore();
    s.accept([span('a', '1', { service: 'web', ts: TODAY }), span('a', '1', { service: 'web', duration: 7 })]);
    expect(s.traces(query())).toEqual([[span('a', '1', { service: 'web', ts: TODAY, duration: 7 })]]);
  });

  it('ranks by the latest span timestamp in the window, then by trace id descending', () => {
    const s = new SpanStore();
    s.accept([
      span('a', '1', { ts: TODAY - 5000 }),
      span('a', '2', { parentId: '1', ts: TODAY }), // a's latest span is the newest
      span('b', '1', { ts: TODAY - 1000 }),
      span('c', '1', { ts: TODAY - 1000 }),
    ]);
    expect(ids(s.traces(query()))).toEqual(['a', 'c', 'b'].map(id16));
  });

  it('uses the root span\'s timestamp for the window, else the earliest', () => {
    const s = new SpanStore();
    // Root too old for the window, child inside it: not found (the root decides).
    s.accept([span('a', '1', { ts: TODAY - 2 * DAY * 1000 }), span('a', '2', { parentId: '1', ts: TODAY })]);
    // No root: the earliest timestamp decides.
    s.accept([span('b', '2', { parentId: '1', ts: TODAY - 500 }), span('b', '3', { parentId: '1', ts: TODAY })]);
    expect(ids(s.traces(query()))).toEqual([id16('b')]);
  });

  it('does not find a trace without timestamps', () => {
    const s = new SpanStore();
    s.accept([span('a', '1', { service: 'web' })]);
    expect(s.traces(query())).toEqual([]);
    expect(s.traces(query({ endTs: 1, lookback: 1 }))).toEqual([]);
  });

  it('stops at limit even when more match', () => {
    const s = new SpanStore();
    for (let i = 1; i <= 30; i++) s.accept([span(i.toString(16), '1', { ts: TODAY - i })]);
    expect(s.traces(query({ limit: 5 }))).toHaveLength(5);
  });
});

describe('SpanStore.dependencies', () => {
  const trace = (traceId: string, ts: number): StoredSpan[] => [
    span(traceId, '1', { kind: 'SERVER', service: 'web', ts }),
    span(traceId, '2', { parentId: '1', kind: 'CLIENT', service: 'web', remote: 'db', ts: ts + 1 }),
  ];

  it('links the traces with a span in the window', () => {
    const store = new SpanStore();
    store.accept([...trace('a', TODAY), ...trace('b', TODAY - 2 * DAY * 1000)]);
    expect(store.dependencies(TODAY_MS + 1, DAY)).toEqual([{ parent: 'web', child: 'db', callCount: 1 }]);
    expect(store.dependencies(TODAY_MS + 1, 3 * DAY)).toEqual([{ parent: 'web', child: 'db', callCount: 2 }]);
    expect(store.dependencies(TODAY_MS - 10 * DAY, DAY)).toEqual([]);
  });

  it('counts a trace reported with 128- and 64-bit ids once (grouped by the lower 64 bits)', () => {
    const store = new SpanStore();
    const [server, client] = trace('48485a3953bb6124', TODAY);
    store.accept([{ ...server!, traceId: '463ac35c9f6413ad48485a3953bb6124' }, client!]);
    expect(store.traceCount).toBe(2);
    expect(store.dependencies(TODAY_MS + 1, DAY)).toEqual([{ parent: 'web', child: 'db', callCount: 1 }]);
  });

  it('groups a 64-bit trace with a 150,000-span 128-bit one (no call-stack overflow)', () => {
    const store = new SpanStore();
    const [server] = trace('48485a3953bb6124', TODAY);
    const clients = Array.from({ length: 150_000 }, (_, i) =>
      span('463ac35c9f6413ad48485a3953bb6124', (i + 2).toString(16), { parentId: '1', kind: 'CLIENT', service: 'web', remote: 'db', ts: TODAY + 1 }),
    );
    store.accept([server!, ...clients]);
    expect(store.traceCount).toBe(2);
    expect(store.dependencies(TODAY_MS + 1, DAY)).toEqual([{ parent: 'web', child: 'db', callCount: 150_000 }]);
  });
});

describe('SpanStore: scale', () => {
  // No deadline here (speed is measured in bench/, not asserted in spec/): the store at its scale answers right.
  it('takes 100k spans and answers queries over them', () => {
    const store = new SpanStore();
    const services = ['web', 'api', 'db', 'cache', 'queue'];
    for (let t = 0; t < 10_000; t++) {
      const traceId = (t + 1).toString(16);
      const batch: StoredSpan[] = [];
      for (let i = 0; i < 10; i++) {
        batch.push(span(traceId, (i + 1).toString(16), { ...(i > 0 ? { parentId: '1' } : {}), kind: i === 0 ? 'SERVER' : 'CLIENT', service: services[i % 5]!, remote: services[(i + 1) % 5]!, name: `op${i}`, ts: TODAY - t * 1000 + i, duration: 100 + i, tags: { n: String(i) } }));
      }
      store.accept(batch);
    }
    expect(store.spanCount).toBe(100_000);
    expect(store.traces(query({ serviceName: 'db', limit: 10 }))).toHaveLength(10);
    expect(store.traces(query({ annotationQuery: { n: '9' }, minDuration: 109, limit: 10 }))).toHaveLength(10);
    expect(store.serviceNames()).toEqual(['api', 'cache', 'db', 'queue', 'web']);
    expect(store.dependencies(TODAY_MS + 1, DAY).length).toBeGreaterThan(0);
  });
});
