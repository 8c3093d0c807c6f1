// The panel under a selected waterfall row: everything the span says, as
// text. Tag values can be long (SQL, stack traces): they wrap and keep their
// line breaks, and nothing in them is ever read as markup.

import { el } from './dom.js';
import { dateTime, duration, serviceColor } from './format.js';

function endpoint(ep) {
  if (!ep) return undefined;
  const address = ep.ipv6 ? `[${ep.ipv6}]` : ep.ipv4;
  const where = [address, ep.port].filter((v) => v !== undefined && v !== '').join(':');
  return [ep.serviceName, where].filter(Boolean).join(' @ ') || undefined;
}

/**
 * The detail element for one row. `traceStart` (epoch µs) gives annotation
 * times relative to the trace, as the time axis shows them.
 */
export function spanDetail(row, traceStart, { onClose, linkHref }) {
  const span = row.span;
  const dot = el('span', { class: 'dot' });
  dot.style.backgroundColor = serviceColor(row.service);

  const facts = [
    ['Service', row.service],
    ['Span ID', span.id],
    ['Parent ID', span.parentId ? `${span.parentId}${row.orphan ? ' (not in this trace: it never arrived)' : ''}` : undefined],
    ['Kind', span.kind],
    ['Start', span.timestamp !== undefined ? `${dateTime(span.timestamp)} (+${duration(row.offset)})` : 'no timestamp'],
    ['Duration', row.duration > 0 ? duration(row.duration) : 'none recorded'],
    ['Self time', duration(row.selfTime)],
    ['Critical path', row.critical > 0 ? `${duration(row.critical)} of this span's own time is on it` : 'not on it'],
    ['Local endpoint', endpoint(span.localEndpoint)],
    ['Remote endpoint', endpoint(span.remoteEndpoint)],
    ['Flags', [span.shared ? 'shared' : '', span.debug ? 'debug' : ''].filter(Boolean).join(', ') || undefined],
  ].filter(([, value]) => value !== undefined && value !== '');

  const tags = Object.entries(span.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const annotations = (span.annotations ?? []).slice().sort((a, b) => a.timestamp - b.timestamp);

  return el('div', { class: 'detail', role: 'region', 'aria-label': `Details of ${row.service} ${span.name ?? ''}`.trim() },
    el('div', { class: 'detail-head' },
      dot,
      el('span', { class: 'svc' }, row.service),
      el('span', { class: 'span-name' }, span.name || '(no name)'),
      el('span', { class: 'spacer' }),
      el('a', { class: 'button small', href: linkHref, title: 'A link to this span' }, 'Link'),
      el('button', { type: 'button', class: 'small', onClick: onClose, 'aria-label': 'Close details' }, 'Close'),
    ),
    row.error ? el('p', { class: 'error-text detail-error' }, `Error${row.errorMessage ? `: ${row.errorMessage}` : ''}`) : null,
    el('div', { class: 'detail-body' },
      el('dl', { class: 'facts' }, facts.map(([name, value]) => [el('dt', {}, name), el('dd', {}, value)])),
      el('div', { class: 'detail-lists' },
        el('h3', {}, `Tags (${tags.length})`),
        tags.length === 0 ? el('p', { class: 'muted' }, 'None.') :
          el('table', { class: 'table tags' }, el('tbody', {}, tags.map(([key, value]) =>
            el('tr', { class: key === 'error' ? 'error-tag' : undefined }, el('th', { scope: 'row' }, key), el('td', {}, value))))),
        el('h3', {}, `Annotations (${annotations.length})`),
        annotations.length === 0 ? el('p', { class: 'muted' }, 'None.') :
          el('table', { class: 'table annotations' }, el('tbody', {}, annotations.map((a) =>
            el('tr', {}, el('th', { scope: 'row', title: dateTime(a.timestamp) }, `+${duration(a.timestamp - traceStart)}`), el('td', {}, a.value))))),
      ),
    ),
  );
}
