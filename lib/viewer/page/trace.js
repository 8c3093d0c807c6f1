// The page of one trace: what it is (root, duration, services), the hints of
// where it loses time, the waterfall, and the tools (critical path, collapse,
// download). Stored traces come from the server by id; uploaded ones live in
// this tab only, and say so.

import { api } from './api.js';
import { append, clear, el, toast } from './dom.js';
import { dateTime, duration, serviceColor } from './format.js';
import { createWaterfall } from './waterfall.js';

export function createTracePage(section, { backHash }) {
  /** The trace shown: { view, uploaded, spans? (an uploaded file's), waterfall }. */
  let shown;
  let generation = 0;
  let showCritical = true;
  /** Uploaded traces of this tab, by id, so their addresses work until a reload. */
  const uploads = new Map();

  const base = (id, uploaded) => `#/${uploaded ? 'uploaded' : 'trace'}/${encodeURIComponent(id)}`;
  const linkOf = (id, uploaded, key) => `${base(id, uploaded)}${key === undefined ? '' : `/${encodeURIComponent(key)}`}`;

  function message(text, isError) {
    clear(section).append(
      el('div', { class: 'trace-head' }, el('a', { class: 'back', href: backHash() }, '← Traces')),
      el('p', { class: isError ? 'error-text big' : 'muted big' }, text),
    );
  }

  async function open(traceId, key, uploaded) {
    if (shown && shown.view.traceId === traceId && shown.uploaded === uploaded) {
      // The same trace, another span (back/forward, or an edited address).
      shown.waterfall.select(key);
      return;
    }
    const mine = ++generation;
    if (uploaded) {
      const upload = uploads.get(traceId);
      if (!upload) {
        shown = undefined;
        message(`The uploaded trace ${traceId} was only in this tab, and is gone after a reload. Open the file again.`, true);
        return;
      }
      draw(upload.view, { uploaded: true, spans: upload.spans, key });
      return;
    }
    message(`Loading trace ${traceId}…`, false);
    try {
      const view = await api.trace(traceId);
      if (mine !== generation) return;
      draw(view, { uploaded: false, key });
    } catch (error) {
      if (mine !== generation) return;
      shown = undefined;
      message(error.status === 404 ? `No trace ${traceId} here (the server says: ${error.message}).` : `Could not load trace ${traceId}: ${error.message}`, true);
    }
  }

  function draw(view, { uploaded, spans, key, state }) {
    const waterfall = createWaterfall(view, {
      onSelect: (selected) => history.replaceState(null, '', linkOf(view.traceId, uploaded, selected)),
      linkOf: (k) => linkOf(view.traceId, uploaded, k),
    });
    waterfall.setCritical(showCritical);
    shown = { view, uploaded, spans, waterfall };

    const depth = view.rows.reduce((max, row) => Math.max(max, row.depth + 1), 0);
    const facts = [
      ['Start', view.start ? dateTime(view.start) : '–'],
      ['Duration', duration(view.duration)],
      ['Spans', String(view.spanCount)],
      ['Services', String(view.services.length)],
      ['Depth', String(depth)],
      ['Errors', String(view.errorCount)],
      ['Trace ID', view.traceId],
    ];

    const critical = el('input', { type: 'checkbox', id: 'critical-toggle', checked: showCritical });
    critical.addEventListener('change', () => {
      showCritical = critical.checked;
      waterfall.setCritical(showCritical);
    });

    const download = el('button', { type: 'button', class: 'download', onClick: () => void downloadJson() }, 'Download JSON');

    const head = el('div', { class: 'trace-head' },
      el('a', { class: 'back', href: backHash() }, '← Traces'),
      el('h1', {},
        dotOf(view.rootService),
        el('span', { class: 'svc' }, view.rootService),
        el('span', { class: 'span-name' }, view.rootName || '(no name)'),
        uploaded ? el('span', { class: 'badge uploaded' }, 'uploaded, not stored') : null,
      ),
      el('dl', { class: 'facts inline' }, facts.map(([name, value]) => el('div', { class: name === 'Errors' && view.errorCount > 0 ? 'has-error' : undefined }, el('dt', {}, name), el('dd', {}, value)))),
      el('div', { class: 'tools' },
        el('label', { class: 'toggle', title: 'The spans whose own time makes up the trace\'s end-to-end duration' }, critical, 'Critical path'),
        el('button', { type: 'button', onClick: () => waterfall.expandAll() }, 'Expand all'),
        el('button', { type: 'button', onClick: () => waterfall.collapseAll() }, 'Collapse all'),
        download,
      ),
    );

    const legend = el('ul', { class: 'legend', 'aria-label': 'Services' }, view.services.map((svc) =>
      el('li', {}, dotOf(svc.name), el('span', { class: 'svc' }, svc.name), el('span', { class: 'n' }, `${svc.spanCount}`))));

    let hints = null;
    if (view.hints.length > 0) {
      let active;
      const buttons = view.hints.map((hint) => {
        const button = el('button', { type: 'button', class: ['hint', hint.kind], 'aria-pressed': 'false' },
          el('span', { class: 'hint-kind' }, hint.kind === 'repeated' ? 'N+1' : 'Gap'),
          el('span', { class: 'hint-text' }, hint.message),
          el('span', { class: 'hint-time' }, duration(hint.duration)));
        button.addEventListener('click', () => {
          for (const b of buttons) b.setAttribute('aria-pressed', 'false');
          active = active === hint ? undefined : hint;
          if (active) button.setAttribute('aria-pressed', 'true');
          waterfall.highlight(active);
        });
        return button;
      });
      hints = el('section', { class: 'hints', 'aria-label': 'Hints' },
        el('h2', {}, `Where this trace loses time (${view.hints.length})`),
        el('ul', {}, buttons.map((b) => el('li', {}, b))));
    }

    append(clear(section), [head, legend, hints, waterfall.element]);
    if (state) waterfall.restore(state);
    else if (key !== undefined) {
      waterfall.select(key);
      waterfall.focusRow(key);
    } else window.scrollTo(0, 0);
  }

  function dotOf(service) {
    const dot = el('span', { class: 'dot', 'aria-hidden': 'true' });
    dot.style.backgroundColor = serviceColor(service);
    return dot;
  }

  /** The trace as Zipkin JSON (a list of spans), saved through a link to a Blob. */
  async function downloadJson() {
    if (!shown) return;
    const { view, uploaded } = shown;
    try {
      const spans = uploaded ? shown.spans : await api.rawTrace(view.traceId);
      const blob = new Blob([`${JSON.stringify(spans, null, 2)}\n`], { type: 'application/json' });
      const href = URL.createObjectURL(blob);
      const link = el('a', { href, download: `trace-${view.traceId}.json`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      // Revoked later: the download reads the Blob after click() returns.
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
    } catch (error) {
      toast(`Could not download the trace: ${error.message}`);
    }
  }

  return {
    open,
    /** An uploaded file: analysed by the server, kept here, shown under #/uploaded/{id}. */
    async upload(file) {
      const text = await file.text();
      let view;
      try {
        view = await api.analyze(text);
      } catch (error) {
        toast(`${file.name}: ${error.message}`);
        return;
      }
      let spans;
      try {
        spans = JSON.parse(text);
      } catch {
        spans = view.rows.map((row) => row.span);
      }
      uploads.set(view.traceId, { view, spans });
      if (shown?.uploaded && shown.view.traceId === view.traceId) shown = undefined; // the same id again: draw the new file
      location.hash = base(view.traceId, true);
    },
    /** Spans arrived: when some are of the stored trace shown, draw its newer version, keeping what the user opened. */
    async spansArrived(traceIds) {
      if (!shown || shown.uploaded || !traceIds.includes(shown.view.traceId)) return;
      const mine = ++generation;
      const id = shown.view.traceId;
      try {
        const view = await api.trace(id);
        if (mine !== generation || !shown || shown.view.traceId !== id) return;
        const scroll = window.scrollY;
        draw(view, { uploaded: false, state: shown.waterfall.state() });
        window.scrollTo(0, scroll);
      } catch {
        // The shown version stays; the next arrival tries again.
      }
    },
    /** Leaving the page: forget the drawn trace so coming back loads it fresh. */
    leave() {
      shown = undefined;
      generation++;
    },
  };
}
