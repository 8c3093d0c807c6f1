// One trace's spans on a time axis: a row per span, indented by depth, its
// bar where it ran, coloured by service (red when it failed), with marks for
// its annotations. A tree in the accessibility sense: one row takes the Tab
// stop, the arrows move between rows, Enter opens or closes a subtree.

import { spanDetail } from './detail.js';
import { el } from './dom.js';
import { duration, serviceColor, ticks } from './format.js';

/**
 * Builds the waterfall of a TraceView. `onSelect(key | undefined)` is told
 * when the user selects a span (to put it in the address); `linkOf(key)`
 * gives a span's address.
 */
export function createWaterfall(view, { onSelect, linkOf }) {
  const total = Math.max(view.duration, 1);
  const byKey = new Map(view.rows.map((row) => [row.key, row]));
  const collapsed = new Set();
  const nodes = new Map();
  /** How many rows are under each row, for the "+N hidden" of a closed one. */
  const below = new Map();
  for (let i = view.rows.length - 1; i >= 0; i--) {
    const row = view.rows[i];
    below.set(row.key, row.childKeys.reduce((n, key) => n + 1 + (below.get(key) ?? 0), 0));
  }
  let selected;
  let detail;
  let focusKey = view.rows[0]?.key;
  let highlighted = [];
  let gapMark;

  const pct = (us) => `${Math.min(100, Math.max(0, (us / total) * 100))}%`;

  const axis = el('div', { class: 'track' }, ticks(total).map((t) => {
    const tick = el('span', { class: 'tick' }, duration(t));
    tick.style.left = pct(t);
    if (t > total * 0.92) tick.classList.add('end'); // its label would run off the right edge
    return tick;
  }));
  const grid = el('div', { class: 'wf-grid', 'aria-hidden': 'true' }, ticks(total).map((t) => {
    const line = el('span', { class: 'gridline' });
    line.style.left = pct(t);
    return line;
  }));
  const body = el('div', { class: 'wf-body', role: 'tree', 'aria-label': 'Spans of the trace', 'aria-multiselectable': 'false' }, grid);
  const root = el('div', { class: 'waterfall show-critical' },
    el('div', { class: 'wf-head', 'aria-hidden': 'true' },
      el('div', { class: 'c-name' }, 'Service · span'),
      el('div', { class: 'c-num' }, 'Duration'),
      el('div', { class: 'c-num' }, 'Self'),
      el('div', { class: 'c-time' }, axis),
    ),
    body,
  );

  for (const row of view.rows) {
    const node = buildRow(row);
    nodes.set(row.key, node);
    body.append(node);
  }
  setFocusable(focusKey);

  function buildRow(row) {
    const span = row.span;
    const hasChildren = row.childKeys.length > 0;
    const color = serviceColor(row.service);

    const twisty = hasChildren
      ? el('button', { type: 'button', class: 'twisty', tabindex: '-1', 'aria-label': 'Collapse', onClick: (event) => { event.stopPropagation(); toggle(row.key); } })
      : el('span', { class: 'twisty leaf', 'aria-hidden': 'true' });
    const dot = el('span', { class: 'dot', 'aria-hidden': 'true' });
    dot.style.backgroundColor = color;
    const name = el('div', { class: 'c-name' },
      twisty, dot,
      el('span', { class: 'svc' }, row.service),
      el('span', { class: 'span-name' }, span.name || '(no name)'),
      row.orphan ? el('span', { class: 'badge', title: 'Its parent span never arrived' }, 'orphan') : null,
      row.error ? el('span', { class: 'badge error-badge', title: row.errorMessage ?? 'error' }, 'error') : null,
      el('span', { class: 'hidden-count' }),
    );
    // Indentation by depth; a CSSOM property, which the page's CSP allows.
    name.style.paddingLeft = `${8 + row.depth * 16}px`;

    const bar = el('div', { class: 'bar', title: `${row.service} ${span.name ?? ''}: ${duration(row.duration)}, self ${duration(row.selfTime)}${row.critical > 0 ? `, ${duration(row.critical)} on the critical path` : ''}` });
    bar.style.setProperty('--svc', color);
    bar.style.left = pct(row.offset);
    bar.style.width = pct(row.duration);
    const start = span.timestamp ?? 0;
    for (const a of span.annotations ?? []) {
      const mark = el('span', { class: 'mark', title: `${a.value} at +${duration(a.timestamp - start)} into the span` });
      mark.style.left = row.duration > 0 ? `${Math.min(100, Math.max(0, ((a.timestamp - start) / row.duration) * 100))}%` : '0';
      bar.append(mark);
    }
    const track = el('div', { class: 'track' }, bar);
    const label = el('span', { class: 'bar-label' }, span.name || '');
    // The name beside the bar, on whichever side has room; inside it when neither has.
    if (row.offset + row.duration <= total * 0.7) label.style.left = pct(row.offset + row.duration);
    else if (row.offset >= total * 0.3) {
      label.classList.add('left');
      label.style.right = `${100 - (row.offset / total) * 100}%`;
    } else {
      label.classList.add('inside');
      label.style.left = pct(row.offset);
    }
    track.append(label);

    const node = el('div', {
      class: ['row', row.error && 'error', row.critical > 0 && 'critical', row.orphan && 'orphan'],
      role: 'treeitem',
      tabindex: '-1',
      'aria-level': String(row.depth + 1),
      'aria-selected': 'false',
      'aria-expanded': hasChildren ? 'true' : undefined,
      dataset: { key: row.key },
      title: row.critical > 0 ? `On the critical path: ${duration(row.critical)} of its own time` : undefined,
    },
      name,
      el('div', { class: 'c-num dur' }, row.duration > 0 ? duration(row.duration) : '–'),
      el('div', { class: 'c-num self' }, duration(row.selfTime)),
      el('div', { class: 'c-time' }, track),
      row.critical > 0 ? el('span', { class: 'crit-mark', title: 'On the critical path' }) : null,
    );
    node.addEventListener('click', () => {
      focus(row.key);
      select(selected === row.key ? undefined : row.key, { scroll: false, notify: true });
    });
    return node;
  }

  // --- collapsing ---------------------------------------------------------

  function toggle(key, open = collapsed.has(key)) {
    const row = byKey.get(key);
    if (!row || row.childKeys.length === 0) return;
    if (open) collapsed.delete(key);
    else collapsed.add(key);
    const node = nodes.get(key);
    node.setAttribute('aria-expanded', String(open));
    node.querySelector('.twisty').setAttribute('aria-label', open ? 'Collapse' : 'Expand');
    node.querySelector('.hidden-count').textContent = open ? '' : `+${below.get(key)}`;
    applyVisibility();
  }

  /** Hides every row under a closed one; rows come parents first, so one pass does. */
  function applyVisibility() {
    const shown = new Map();
    for (const row of view.rows) {
      const parentShown = row.parentKey === undefined || !byKey.has(row.parentKey) ? true : shown.get(row.parentKey) && !collapsed.has(row.parentKey);
      shown.set(row.key, parentShown);
      nodes.get(row.key).hidden = !parentShown;
    }
    if (detail) detail.hidden = selected !== undefined && !shown.get(selected);
    if (focusKey !== undefined && !shown.get(focusKey)) {
      // The focused row went under a closed parent: the parent takes the focus.
      let key = focusKey;
      while (key !== undefined && !shown.get(key)) key = byKey.get(key)?.parentKey;
      if (key !== undefined) focus(key);
    }
  }

  /** Opens every closed row above `key`, so it can be seen. */
  function reveal(key) {
    let parent = byKey.get(key)?.parentKey;
    let changed = false;
    while (parent !== undefined && byKey.has(parent)) {
      if (collapsed.delete(parent)) {
        changed = true;
        const node = nodes.get(parent);
        node.setAttribute('aria-expanded', 'true');
        node.querySelector('.twisty').setAttribute('aria-label', 'Collapse');
        node.querySelector('.hidden-count').textContent = '';
      }
      parent = byKey.get(parent).parentKey;
    }
    if (changed) applyVisibility();
  }

  // --- selection and focus ------------------------------------------------

  function setFocusable(key) {
    for (const [k, node] of nodes) node.tabIndex = k === key ? 0 : -1;
  }

  function focus(key) {
    if (!nodes.has(key)) return;
    if (focusKey !== undefined && nodes.has(focusKey)) nodes.get(focusKey).tabIndex = -1;
    focusKey = key;
    const node = nodes.get(key);
    node.tabIndex = 0;
    if (root.contains(document.activeElement) || document.activeElement === document.body) node.focus({ preventScroll: false });
  }

  function select(key, { scroll = true, notify = false } = {}) {
    if (selected !== undefined) {
      nodes.get(selected)?.classList.remove('selected');
      nodes.get(selected)?.setAttribute('aria-selected', 'false');
    }
    detail?.remove();
    detail = undefined;
    selected = key !== undefined && byKey.has(key) ? key : undefined;
    if (selected !== undefined) {
      reveal(selected);
      const node = nodes.get(selected);
      node.classList.add('selected');
      node.setAttribute('aria-selected', 'true');
      detail = spanDetail(byKey.get(selected), view.start, {
        linkHref: linkOf(selected),
        onClose: () => {
          const key = selected;
          select(undefined, { notify: true });
          if (key !== undefined) nodes.get(key)?.focus();
        },
      });
      node.after(detail);
      if (scroll) node.scrollIntoView({ block: 'center' });
    }
    if (notify) onSelect(selected);
  }

  body.addEventListener('keydown', (event) => {
    const node = event.target instanceof Element ? event.target.closest('.row') : null;
    if (!node || event.target !== node) return;
    const key = node.dataset.key;
    const row = byKey.get(key);
    const visible = [...nodes.values()].filter((n) => !n.hidden);
    const at = visible.indexOf(node);
    const move = (target) => {
      if (!target) return;
      event.preventDefault();
      focus(target.dataset.key);
      target.focus();
    };
    switch (event.key) {
      case 'ArrowDown': move(visible[at + 1]); break;
      case 'ArrowUp': move(visible[at - 1]); break;
      case 'Home': move(visible[0]); break;
      case 'End': move(visible[visible.length - 1]); break;
      case 'ArrowRight':
        if (row.childKeys.length > 0 && collapsed.has(key)) { event.preventDefault(); toggle(key, true); }
        else move(nodes.get(row.childKeys[0]));
        break;
      case 'ArrowLeft':
        if (row.childKeys.length > 0 && !collapsed.has(key)) { event.preventDefault(); toggle(key, false); }
        else move(row.parentKey !== undefined ? nodes.get(row.parentKey) : undefined);
        break;
      case 'Enter':
        event.preventDefault();
        if (row.childKeys.length > 0) toggle(key);
        else select(selected === key ? undefined : key, { scroll: false, notify: true });
        break;
      case ' ':
        event.preventDefault();
        select(selected === key ? undefined : key, { scroll: false, notify: true });
        break;
      case 'Escape':
        if (selected !== undefined) { event.preventDefault(); select(undefined, { notify: true }); }
        break;
      default:
    }
  });

  // --- hints ----------------------------------------------------------------

  /** Marks a hint's rows (and, for a gap, the stretch of the parent's bar where nothing ran). */
  function highlight(hint) {
    for (const key of highlighted) nodes.get(key)?.classList.remove('hinted');
    gapMark?.remove();
    gapMark = undefined;
    highlighted = [];
    if (!hint) return;
    highlighted = hint.keys.length > 0 ? hint.keys.filter((k) => nodes.has(k)) : [hint.parentKey];
    if (hint.kind === 'gap' && nodes.has(hint.parentKey)) {
      gapMark = el('span', { class: 'gap-mark', title: hint.message });
      gapMark.style.left = pct(hint.offset);
      gapMark.style.width = pct(hint.duration);
      nodes.get(hint.parentKey).querySelector('.c-time .track').append(gapMark);
      if (!highlighted.includes(hint.parentKey)) highlighted.push(hint.parentKey);
    }
    for (const key of highlighted) {
      reveal(key);
      nodes.get(key)?.classList.add('hinted');
    }
    nodes.get(highlighted[0])?.scrollIntoView({ block: 'nearest' });
  }

  return {
    element: root,
    select: (key, options) => select(key, options),
    /** Puts the keyboard on a row (after a deep link, so arrows work at once). */
    focusRow(key) {
      focus(key);
      nodes.get(key)?.focus({ preventScroll: true });
    },
    highlight,
    setCritical(on) { root.classList.toggle('show-critical', on); },
    expandAll() { for (const key of [...collapsed]) toggle(key, true); },
    collapseAll() { for (const row of view.rows) if (row.childKeys.length > 0 && row.depth > 0) toggle(row.key, false); },
    /** What the user has opened, closed and selected, to carry over to a newer version of the trace. */
    state: () => ({ collapsed: [...collapsed], selected, focusKey, hadFocus: root.contains(document.activeElement) }),
    restore(state) {
      for (const key of state.collapsed) if (byKey.has(key)) toggle(key, false);
      if (state.selected !== undefined) select(state.selected, { scroll: false });
      if (state.focusKey !== undefined && nodes.has(state.focusKey)) {
        focusKey = state.focusKey;
        setFocusable(focusKey);
        // The old rows are gone: a keyboard user carries on from the same row of the new ones.
        if (state.hadFocus) nodes.get(focusKey).focus({ preventScroll: true });
      }
    },
    rowElement: (key) => nodes.get(key),
  };
}
