// The service dependency graph: who calls whom, how often, how often it
// failed. Layered left to right: a service sits one column right of the
// furthest caller that reaches it, so the entry points are on the left and
// the leaves (databases, queues) on the right. Calls against that flow
// (cycles) are drawn as curves under the nodes.

import { api, query } from './api.js';
import { byId, clear, el, svg } from './dom.js';
import { localInputToMs, msToLocalInput, serviceColor } from './format.js';

const NODE_W = 150;
const NODE_H = 34;
const COL_GAP = 120;
const ROW_GAP = 30;
const PAD = 24;

/** Columns for the services: longest path from a caller-less one; a cycle is cut where it is first met. */
export function layout(links) {
  const names = [...new Set(links.flatMap((l) => [l.parent, l.child]))].sort();
  const out = new Map(names.map((n) => [n, []]));
  const indegree = new Map(names.map((n) => [n, 0]));
  for (const l of links) {
    if (l.parent === l.child) continue;
    out.get(l.parent).push(l.child);
    indegree.set(l.child, indegree.get(l.child) + 1);
  }
  const layer = new Map(names.map((n) => [n, 0]));
  const done = new Set();
  const ready = names.filter((n) => indegree.get(n) === 0);
  while (done.size < names.length) {
    // In a cycle nobody is ready: start from the one with the fewest callers left.
    if (ready.length === 0) {
      const rest = names.filter((n) => !done.has(n)).sort((a, b) => indegree.get(a) - indegree.get(b));
      ready.push(rest[0]);
    }
    const name = ready.shift();
    if (done.has(name)) continue;
    done.add(name);
    for (const child of out.get(name)) {
      if (done.has(child)) continue;
      layer.set(child, Math.max(layer.get(child), layer.get(name) + 1));
      indegree.set(child, indegree.get(child) - 1);
      if (indegree.get(child) === 0) ready.push(child);
    }
  }
  const columns = [];
  for (const name of names) (columns[layer.get(name)] ??= []).push(name);
  // Each column ordered by where its callers sit, so that edges cross less.
  const row = new Map();
  columns.forEach((column, i) => {
    if (i > 0) {
      const score = (name) => {
        const callers = links.filter((l) => l.child === name && l.parent !== name && row.has(l.parent)).map((l) => row.get(l.parent));
        return callers.length === 0 ? Infinity : callers.reduce((a, b) => a + b, 0) / callers.length;
      };
      column.sort((a, b) => score(a) - score(b) || (a < b ? -1 : 1));
    }
    column.forEach((name, j) => row.set(name, j));
  });
  const tallest = columns.reduce((most, c) => Math.max(most, c.length), 1);
  const position = new Map();
  columns.forEach((column, i) => column.forEach((name, j) => {
    const offset = ((tallest - column.length) * (NODE_H + ROW_GAP)) / 2;
    position.set(name, { x: PAD + i * (NODE_W + COL_GAP), y: PAD + offset + j * (NODE_H + ROW_GAP), layer: i });
  }));
  return {
    position,
    width: PAD * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * COL_GAP,
    height: PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP + 40,
  };
}

export function createDependencies() {
  const form = byId('deps-form');
  const box = byId('deps-graph');
  const tbody = byId('deps-table').querySelector('tbody');
  const errorText = byId('deps-error');
  let generation = 0;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const lookback = form.elements.namedItem('lookback').value;
    const endTs = localInputToMs(form.elements.namedItem('endTs').value);
    const hash = `#/dependencies${query({ lookback: lookback === '86400000' ? '' : lookback, endTs })}`;
    if (hash === location.hash) void load(lookback, endTs);
    else location.hash = hash;
  });
  form.elements.namedItem('lookback').addEventListener('change', () => form.requestSubmit());

  async function load(lookback, endTs) {
    const mine = ++generation;
    try {
      const links = await api.dependencies(endTs ?? Date.now(), lookback);
      if (mine !== generation) return;
      errorText.hidden = true;
      draw(Array.isArray(links) ? links : []);
    } catch (error) {
      if (mine !== generation) return;
      errorText.textContent = `Could not load the dependencies: ${error.message}`;
      errorText.hidden = false;
    }
  }

  function draw(links) {
    clear(box);
    clear(tbody);
    if (links.length === 0) {
      box.append(el('p', { class: 'muted big' }, 'No calls between services in this window.'));
      return;
    }
    const { position, width, height } = layout(links);
    const root = svg('svg', { class: 'dependency-graph', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'Service dependency graph' });
    root.append(svg('defs', {},
      arrow('arrow', 'edge-arrow'),
      arrow('arrow-error', 'edge-arrow error'),
    ));
    const edges = svg('g', { class: 'edges' });
    const labels = svg('g', { class: 'edge-labels' });
    const nodes = svg('g', { class: 'nodes' });
    root.append(edges, labels, nodes);

    for (const link of links) {
      const from = position.get(link.parent);
      const to = position.get(link.child);
      const errors = link.errorCount ?? 0;
      let d;
      let lx;
      let ly;
      if (link.parent === link.child) {
        // A service calling itself: a loop over its box.
        const x = from.x + NODE_W / 2;
        d = `M ${x - 20} ${from.y} C ${x - 30} ${from.y - 40}, ${x + 30} ${from.y - 40}, ${x + 20} ${from.y}`;
        lx = x;
        ly = from.y - 36;
      } else if (to.layer > from.layer) {
        const x1 = from.x + NODE_W;
        const y1 = from.y + NODE_H / 2;
        const x2 = to.x;
        const y2 = to.y + NODE_H / 2;
        const mid = (x1 + x2) / 2;
        d = `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2 - 4} ${y2}`;
        lx = mid;
        ly = (y1 + y2) / 2 - 6;
      } else {
        // Against the flow (a cycle): under both boxes, so it does not hide the others.
        const x1 = from.x + NODE_W / 2;
        const y1 = from.y + NODE_H;
        const x2 = to.x + NODE_W / 2;
        const y2 = to.y + NODE_H;
        const low = Math.max(y1, y2) + 40;
        d = `M ${x1} ${y1} C ${x1} ${low}, ${x2} ${low}, ${x2} ${y2 + 4}`;
        lx = (x1 + x2) / 2;
        ly = low - 4;
      }
      const title = `${link.parent} → ${link.child}: ${link.callCount} call${link.callCount === 1 ? '' : 's'}${errors > 0 ? `, ${errors} error${errors === 1 ? '' : 's'}` : ''}`;
      const path = svg('path', { d, class: errors > 0 ? 'edge error' : 'edge', 'marker-end': `url(#${errors > 0 ? 'arrow-error' : 'arrow'})`, dataset: { parent: link.parent, child: link.child } }, svg('title', {}, title));
      // Thicker for busier calls, on a log scale so one hot edge does not swallow the rest.
      path.style.strokeWidth = String(1.25 + Math.min(4, Math.log10(Math.max(1, link.callCount))));
      edges.append(path);
      const text = svg('text', { x: lx, y: ly, class: 'edge-label', 'text-anchor': 'middle', dataset: { parent: link.parent, child: link.child } },
        svg('tspan', { class: 'calls' }, `${link.callCount}`));
      if (errors > 0) text.append(svg('tspan', { class: 'errors' }, ` · ${errors} err`));
      labels.append(text);

      tbody.append(el('tr', { class: errors > 0 ? 'has-error' : undefined, dataset: { parent: link.parent, child: link.child } },
        el('td', {}, el('a', { href: `#/${query({ serviceName: link.parent })}` }, link.parent)),
        el('td', {}, el('a', { href: `#/${query({ serviceName: link.child })}` }, link.child)),
        el('td', { class: 'num calls' }, String(link.callCount)),
        el('td', { class: errors > 0 ? 'num errors error-text' : 'num errors' }, String(errors)),
      ));
    }

    for (const [name, { x, y }] of position) {
      const stripe = svg('rect', { x, y, width: 6, height: NODE_H, rx: 3, class: 'node-stripe' });
      stripe.style.fill = serviceColor(name);
      const label = name.length > 20 ? `${name.slice(0, 19)}…` : name;
      const group = svg('a', { href: `#/${query({ serviceName: name })}`, class: 'node', dataset: { service: name } },
        svg('title', {}, `${name}: find its traces`),
        svg('rect', { x, y, width: NODE_W, height: NODE_H, rx: 6, class: 'node-box' }),
        stripe,
        svg('text', { x: x + 16, y: y + NODE_H / 2 + 4, class: 'node-label' }, label));
      // Hovering or focusing a service brings out its calls.
      const mark = (on) => {
        root.classList.toggle('focusing', on);
        for (const item of root.querySelectorAll('.edge, .edge-label')) {
          item.classList.toggle('near', on && (item.dataset.parent === name || item.dataset.child === name));
        }
      };
      group.addEventListener('mouseenter', () => mark(true));
      group.addEventListener('mouseleave', () => mark(false));
      group.addEventListener('focus', () => mark(true));
      group.addEventListener('blur', () => mark(false));
      nodes.append(group);
    }
    box.append(root);
  }

  function arrow(id, cls) {
    return svg('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerUnits: 'userSpaceOnUse', markerWidth: 9, markerHeight: 9, orient: 'auto-start-reverse' },
      svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: cls }));
  }

  return {
    show(params) {
      const lookback = params.get('lookback') || '86400000';
      const endTs = params.get('endTs') ? Number(params.get('endTs')) : undefined;
      const select = form.elements.namedItem('lookback');
      if (![...select.options].some((o) => o.value === lookback)) select.append(el('option', { value: lookback }, `${lookback} ms`));
      select.value = lookback;
      form.elements.namedItem('endTs').value = endTs ? msToLocalInput(endTs) : '';
      void load(lookback, endTs);
    },
    /** New spans may mean new calls; the graph is redrawn when it follows "now". */
    spansArrived() {
      if (!location.hash.includes('endTs=')) {
        const lookback = form.elements.namedItem('lookback').value;
        void load(lookback, undefined);
      }
    },
  };
}
