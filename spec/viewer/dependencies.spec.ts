/**
 * linkDependencies follows zipkin2.internal.DependencyLinker over the tree
 * SpanNode.Builder makes; each row mirrors a case of Zipkin's
 * DependencyLinkerTest, by its name.
 */
import { describe, expect, it } from 'vitest';
import type { SpanKind } from '../../lib/types.js';
import { linkDependencies, mergeLinks } from '../../lib/viewer/dependencies.js';
import type { DependencyLink, StoredSpan } from '../../lib/viewer/types.js';

const pad = (id: string): string => id.padStart(16, '0');

/** DependencyLinkerTest's span(traceId, parentId, id, kind, local, remote, isError). */
function span(traceId: string, parentId: string | null, id: string, kind: SpanKind | null, local: string | null, remote: string | null, isError: boolean, extra: Partial<StoredSpan> = {}): StoredSpan {
  const s: StoredSpan = { traceId: pad(traceId), id: pad(id) };
  if (parentId !== null && parentId !== id) s.parentId = pad(parentId);
  if (kind !== null) s.kind = kind;
  if (local !== null) s.localEndpoint = { serviceName: local };
  if (remote !== null) s.remoteEndpoint = { serviceName: remote };
  if (isError) s.tags = { error: '' };
  return { ...s, ...extra };
}

const link = (parent: string, child: string, callCount: number, errorCount = 0): DependencyLink => (errorCount > 0 ? { parent, child, callCount, errorCount } : { parent, child, callCount });

// In reverse order, as reporting is more likely to occur this way.
const TRACE = [
  span('a', 'b', 'c', 'CLIENT', 'app', 'db', true),
  span('a', 'a', 'b', 'SERVER', 'app', 'web', false, { shared: true }),
  span('a', 'a', 'b', 'CLIENT', 'web', 'app', false),
  span('a', null, 'a', 'SERVER', 'web', null, false),
];

describe('linkDependencies (Zipkin DependencyLinkerTest)', () => {
  it.each<[string, StoredSpan[], DependencyLink[]]>([
    ['linksSpans', TRACE, [link('web', 'app', 1), link('app', 'db', 1, 1)]],
    ['traceIdIsOpaque', TRACE.map((s) => ({ ...s, traceId: pad('123') })), [link('web', 'app', 1), link('app', 'db', 1, 1)]],
    [
      'linksSpans_serverMissingParentId',
      [span('a', null, 'b', 'SERVER', 'link', 'arn', false, { shared: true }), span('a', 'a', 'b', 'CLIENT', 'arn', 'link', false), span('a', null, 'a', 'SERVER', 'arn', null, false)],
      [link('arn', 'link', 1)],
    ],
    ['lateParentIdInSharedSpan', TRACE.map((s, i) => (i === 2 ? { ...s, parentId: undefined } : s)).map(dropUndefined), [link('web', 'app', 1), link('app', 'db', 1, 1)]],
    ['lostChildAndNoParentIdInSharedSpan', [TRACE[0]!, dropUndefined({ ...TRACE[2]!, parentId: undefined }), TRACE[3]!], [link('web', 'app', 1), link('app', 'db', 1, 1)]],
    ['messagingSpansDontLinkWithoutBroker_consumer', [span('a', null, 'a', 'PRODUCER', 'producer', null, false), span('a', 'a', 'b', 'CONSUMER', 'consumer', 'kafka', false)], [link('kafka', 'consumer', 1)]],
    ['messagingSpansDontLinkWithoutBroker_producer', [span('a', null, 'a', 'PRODUCER', 'producer', 'kafka', false), span('a', 'a', 'b', 'CONSUMER', 'consumer', null, false)], [link('producer', 'kafka', 1)]],
    ['messagingWithBroker_both_sides_same', [span('a', null, 'a', 'PRODUCER', 'producer', 'kafka', false), span('a', 'a', 'b', 'CONSUMER', 'consumer', 'kafka', false)], [link('producer', 'kafka', 1), link('kafka', 'consumer', 1)]],
    ['messagingWithBroker_different', [span('a', null, 'a', 'PRODUCER', 'producer', 'kafka1', false), span('a', 'a', 'b', 'CONSUMER', 'consumer', 'kafka2', false)], [link('producer', 'kafka1', 1), link('kafka2', 'consumer', 1)]],
    ['messaging error counts on the broker link', [span('a', null, 'a', 'PRODUCER', 'producer', 'kafka', true)], [link('producer', 'kafka', 1, 1)]],
    ['messagingWithoutBroker_noLinks', [span('a', null, 'a', 'PRODUCER', 'producer', null, false), span('a', 'a', 'b', 'CONSUMER', 'consumer', null, false)], []],
    ['producerLinksToServer_childSpan', [span('a', null, 'a', 'PRODUCER', 'producer', null, false), span('a', 'a', 'b', 'SERVER', 'server', null, false)], [link('producer', 'server', 1)]],
    ['producerLinksToServer_sameSpan', [span('a', null, 'a', 'PRODUCER', 'producer', null, false), span('a', null, 'a', 'SERVER', 'server', null, false, { shared: true })], [link('producer', 'server', 1)]],
    ['clientDoesntLinkToConsumer_child', [span('a', null, 'a', 'CLIENT', 'client', null, false), span('a', 'a', 'b', 'CONSUMER', 'consumer', null, false)], []],
    ['linksSpansDirectedByKind (server root knowing its client)', [span('a', null, 'a', 'SERVER', 'server', 'client', false)], [link('client', 'server', 1)]],
    ['linksSpansDirectedByKind (client root)', [span('a', null, 'a', 'CLIENT', 'client', 'server', false)], [link('client', 'server', 1)]],
    ['callsAgainstTheSameLinkIncreasesCallCount_span', [span('a', null, 'a', 'SERVER', 'client', null, false), span('a', 'a', 'b', 'CLIENT', null, 'server', false), span('a', 'a', 'c', 'CLIENT', null, 'server', false)], [link('client', 'server', 2)]],
    ['singleHostSpansResultInASingleCallCount', [span('a', null, 'a', 'CLIENT', 'client', null, false), span('a', 'a', 'b', 'SERVER', 'server', null, false)], [link('client', 'server', 1)]],
    ['singleHostSpansResultInASingleErrorCount', [span('a', null, 'a', 'CLIENT', 'client', null, true), span('a', 'a', 'b', 'SERVER', 'server', null, true)], [link('client', 'server', 1, 1)]],
    ['singleHostSpansResultInASingleErrorCount_sameId', [span('a', null, 'a', 'CLIENT', 'client', null, true), span('a', null, 'a', 'SERVER', 'server', null, true, { shared: true })], [link('client', 'server', 1, 1)]],
    ['singleHostSpansResultInASingleCallCount_defersNameToServer', [span('a', null, 'a', 'CLIENT', 'client', 'server', false), span('a', 'a', 'b', 'SERVER', 'server', null, false)], [link('client', 'server', 1)]],
    ['singleHostSpans_multipleChildren', [span('a', null, 'a', 'CLIENT', 'client', null, false), span('a', 'a', 'b', 'SERVER', 'server', 'client', true), span('a', 'a', 'c', 'SERVER', 'server', 'client', false)], [link('client', 'server', 2, 1)]],
    ['singleHostSpans_multipleChildren_defersNameToServer', [span('a', null, 'a', 'CLIENT', 'client', 'server', false), span('a', 'a', 'b', 'SERVER', 'server', null, false), span('a', 'a', 'c', 'SERVER', 'server', null, false)], [link('client', 'server', 2)]],
    [
      'intermediatedClientSpansMissingLocalServiceNameLinkToNearestServer',
      [span('a', null, 'a', 'SERVER', 'client', null, false), span('a', 'a', 'b', null, null, null, false), span('a', 'b', 'c', 'CLIENT', 'server', null, false), span('a', 'b', 'd', 'CLIENT', 'server', null, false)],
      [link('client', 'server', 2)],
    ],
    [
      'errorsOnUninstrumentedLinks',
      [span('a', null, 'a', 'SERVER', 'client', null, false), span('a', 'a', 'b', null, null, null, false), span('a', 'b', 'c', 'CLIENT', 'server', null, true), span('a', 'b', 'd', 'CLIENT', 'server', null, true)],
      [link('client', 'server', 2)],
    ],
    [
      'errorsOnInstrumentedLinks',
      [span('a', null, 'a', 'SERVER', 'foo', null, false), span('a', 'a', 'b', null, null, null, false), span('a', 'b', 'c', 'CLIENT', 'bar', 'baz', true), span('a', 'b', 'd', 'CLIENT', 'bar', 'baz', false)],
      [link('foo', 'bar', 2), link('bar', 'baz', 2, 1)],
    ],
    ['linkWithErrorIsLogged (an error link counts its error)', [span('a', 'b', 'c', 'CLIENT', 'foo', 'bar', true)], [link('foo', 'bar', 1, 1)]],
    ['annotationNamedErrorDoesntIncrementErrorCount', [span('a', 'b', 'c', 'CLIENT', 'foo', 'bar', false, { annotations: [{ timestamp: 1, value: 'error' }] })], [link('foo', 'bar', 1)]],
    ['linksLoopbackSpans (server)', [span('a', null, 'a', 'SERVER', 'service', 'service', false)], [link('service', 'service', 1)]],
    ['linksLoopbackSpans (client)', [span('b', null, 'b', 'CLIENT', 'service', 'service', false)], [link('service', 'service', 1)]],
    [
      'noSpanKindTreatedSameAsClient',
      [span('a', null, 'a', null, 'some-client', 'web', false), span('a', 'a', 'b', null, 'web', 'app', false), span('a', 'b', 'c', null, 'app', 'db', false)],
      [link('some-client', 'web', 1), link('web', 'app', 1), link('app', 'db', 1)],
    ],
    [
      'noSpanKindWithError',
      [span('a', null, 'a', null, 'some-client', 'web', false), span('a', 'a', 'b', null, 'web', 'app', true), span('a', 'b', 'c', null, 'app', 'db', false)],
      [link('some-client', 'web', 1), link('web', 'app', 1, 1), link('app', 'db', 1)],
    ],
    ['doesntLinkUnrelatedSpansWhenMissingRootSpan', [span('a', 'a', 'b', 'SERVER', 'service1', null, false), span('a', 'a', 'c', 'SERVER', 'service2', null, false)], []],
    ['linksRelatedSpansWhenMissingRootSpan', [span('a', 'a', 'b', 'SERVER', 'service1', null, false), span('a', 'b', 'c', 'SERVER', 'service2', null, false)], [link('service1', 'service2', 1)]],
    ['linksSingleHostSpans', [span('a', null, 'a', 'CLIENT', 'web', null, false), span('a', 'a', 'b', 'SERVER', 'app', null, false)], [link('web', 'app', 1)]],
    ['linksSingleHostSpans_errorOnClient', [span('a', null, 'a', 'CLIENT', 'web', null, true), span('a', 'a', 'b', 'SERVER', 'app', null, false)], [link('web', 'app', 1, 1)]],
    ['missingSpan (backfills the link to the client\'s service)', [span('a', null, 'a', 'SERVER', 'web', null, false), span('a', 'a', 'b', 'CLIENT', 'app', null, false)], [link('web', 'app', 1)]],
    ['a local span alone links nothing', [span('a', null, 'a', null, 'web', null, false)], []],
    [
      'a server under a local span of a shared server links from that server',
      [span('a', null, 'a', 'CLIENT', 'web', null, false), span('a', null, 'a', 'SERVER', 'app', null, false, { shared: true }), span('a', 'a', 'b', null, 'app', null, false), span('a', 'b', 'c', 'CLIENT', 'app', 'db', false)],
      [link('web', 'app', 1), link('app', 'db', 1)],
    ],
  ])('%s', (_name, trace, expected) => {
    expect(linkDependencies([trace])).toEqual(expected);
  });

  it.each<[string, StoredSpan]>([
    ['server, no services', span('a', null, 'a', 'SERVER', null, null, false)],
    ['server, only local', span('a', null, 'a', 'SERVER', 'server', null, false)],
    ['server, only remote', span('a', null, 'a', 'SERVER', null, 'client', false)],
    ['client, no services', span('a', null, 'a', 'CLIENT', null, null, false)],
    ['client, only local', span('a', null, 'a', 'CLIENT', 'client', null, false)],
    ['client, only remote', span('a', null, 'a', 'CLIENT', null, 'server', false)],
  ])('cannotLinkSingleSpanWithoutBothServiceNames: %s', (_name, only) => {
    expect(linkDependencies([[only]])).toEqual([]);
  });

  it('baseCase: no traces, no links; an empty trace is skipped', () => {
    expect(linkDependencies([])).toEqual([]);
    expect(linkDependencies([[]])).toEqual([]);
  });

  it('callsAgainstTheSameLinkIncreasesCallCount_trace', () => {
    const trace = [span('a', null, 'a', 'SERVER', 'client', null, false), span('a', 'a', 'b', 'CLIENT', null, 'server', false)];
    expect(linkDependencies([trace, trace])).toEqual([link('client', 'server', 2)]);
  });

  it('merges the parts of a span before linking (one call, not two)', () => {
    const parts = [span('a', null, 'a', 'SERVER', 'web', null, false), span('a', 'a', 'b', 'CLIENT', 'web', 'db', false), span('a', 'a', 'b', null, 'web', null, false, { duration: 5 })];
    expect(linkDependencies([parts])).toEqual([link('web', 'db', 1)]);
  });

  // No deadline in these two (speed is measured in bench/, not asserted in spec/).
  it('links a root with 150,000 children (no call-stack overflow)', () => {
    const id = (i: number): string => (i + 1).toString(16);
    const trace = [span('a', null, id(0), 'SERVER', 'web', null, false)];
    for (let i = 1; i <= 150_000; i++) trace.push(span('a', id(0), id(i), 'CLIENT', 'web', 'db', i % 3 === 0));
    expect(linkDependencies([trace])).toEqual([link('web', 'db', 150_000, 50_000)]);
  });

  it('finds the remote span above 30,000 chained local spans, each with a client leaf', () => {
    // web SERVER → L0 → … → L14999 → api SERVER → L15000 → … → L29999, and a client worker → db under each Li.
    const n = 30_000;
    const local = (i: number): string => (2 * i + 16).toString(16);
    const trace = [span('a', null, '1', 'SERVER', 'web', null, false), span('a', local(n / 2 - 1), '2', 'SERVER', 'api', null, false)];
    for (let i = 0; i < n; i++) {
      const parent = i === 0 ? '1' : i === n / 2 ? '2' : local(i - 1);
      trace.push(span('a', parent, local(i), null, 'worker', null, false), span('a', local(i), (2 * i + 17).toString(16), 'CLIENT', 'worker', 'db', false));
    }
    // Each client backfills its remote ancestor → worker: web above the api server, api below it.
    expect(linkDependencies([trace])).toEqual([link('web', 'worker', n / 2), link('worker', 'db', n), link('web', 'api', 1), link('api', 'worker', n / 2)]);
  });

  it('ends on data that makes a cycle of parents', () => {
    const cycle = [span('a', 'b', 'a', 'SERVER', 'x', 'y', false), span('a', 'a', 'b', 'SERVER', 'y', 'x', false)];
    expect(linkDependencies([cycle])).toEqual([]);
  });
});

describe('mergeLinks (DependencyLinkerTest.merge)', () => {
  it.each([
    ['merge', [link('foo', 'bar', 2, 1), link('foo', 'bar', 2, 2), link('foo', 'foo', 1)], [link('foo', 'bar', 4, 3), link('foo', 'foo', 1)]],
    ['merge_error', [link('client', 'server', 2), link('client', 'server', 2), link('client', 'client', 1)], [link('client', 'server', 4), link('client', 'client', 1)]],
  ])('%s', (_name, links, expected) => {
    expect(mergeLinks(links)).toEqual(expected);
  });
});

function dropUndefined(span: StoredSpan): StoredSpan {
  return Object.fromEntries(Object.entries(span).filter(([, v]) => v !== undefined)) as unknown as StoredSpan;
}
