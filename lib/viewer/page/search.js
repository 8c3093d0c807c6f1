// The search form and the list of traces it finds. The form's state lives in
// the address (#/?serviceName=users&minDuration=1000), so a search can be
// shared, reloaded, and gone back to. The list refreshes itself when spans
// arrive, keeping the rows the user is looking at where they are.

import { api, query } from './api.js';
import { byId, clear, el } from './dom.js';
import { ago, dateTime, duration, durationInput, localInputToMs, msToLocalInput, parseDuration, serviceColor } from './format.js';

/** What the address may say about a search, all as Zipkin's API spells them. */
const PARAMS = ['serviceName', 'remoteServiceName', 'spanName', 'annotationQuery', 'minDuration', 'maxDuration', 'endTs', 'lookback', 'limit'];
const DEFAULTS = { lookback: '3600000', limit: '50' };

export function createSearch() {
  const form = byId('search');
  const list = byId('results');
  const count = byId('results-count');
  const errorText = byId('search-error');
  const sort = byId('sort');
  const datalist = byId('annotation-suggestions');
  const f = (name) => form.elements.namedItem(name);

  /** The search shown: the address's parameters, as strings. */
  let params = {};
  let summaries = [];
  let generation = 0;
  /** The trace the user last opened from the list, marked when they come back. */
  let lastOpened;
  const rows = new Map();
  let loadedServices = false;
  /** Coming back from a trace: focus its row once the list is drawn, so the keyboard continues where it was. */
  let focusLastOpened = false;

  // --- the form ---------------------------------------------------------

  async function loadServices() {
    if (loadedServices) return;
    loadedServices = true;
    try {
      const names = await api.services();
      // Unchanged: leave the select alone, so that a live refresh does not close it under the user's pointer.
      const shown = [...f('serviceName').options].map((o) => o.value).filter(Boolean);
      const wanted = [...new Set([...(names ?? []), ...(params.serviceName ? [params.serviceName] : [])])].sort();
      if (shown.join('\n') !== wanted.join('\n')) fillSelect(f('serviceName'), names, 'all services', params.serviceName);
    } catch (error) {
      loadedServices = false;
      showError(error);
    }
  }

  /** The span names and remote services the chosen service has. */
  async function loadServiceDetails(serviceName) {
    if (!serviceName) {
      fillSelect(f('spanName'), [], 'all spans', params.spanName);
      fillSelect(f('remoteServiceName'), [], 'any', params.remoteServiceName);
      return;
    }
    try {
      const [names, remotes] = await Promise.all([api.spanNames(serviceName), api.remoteServices(serviceName)]);
      if (f('serviceName').value !== serviceName) return; // the user chose another meanwhile
      fillSelect(f('spanName'), names, 'all spans', params.spanName);
      fillSelect(f('remoteServiceName'), remotes, 'any', params.remoteServiceName);
    } catch (error) {
      showError(error);
    }
  }

  /** Options for a select, keeping `keep` (from the address) even when the server no longer lists it. */
  function fillSelect(select, values, anyLabel, keep) {
    const names = [...new Set((values ?? []).map(String))].sort();
    if (keep && !names.includes(keep)) names.unshift(keep);
    // Through a fragment, not a spread into append(): a spread of a long list overflows the stack.
    const options = document.createDocumentFragment();
    options.append(el('option', { value: '' }, anyLabel));
    for (const name of names) options.append(el('option', { value: name }, name));
    clear(select).append(options);
    select.value = keep ?? '';
  }

  function fillForm() {
    for (const name of ['serviceName', 'remoteServiceName', 'spanName']) {
      const select = f(name);
      const value = params[name] ?? '';
      if (value && ![...select.options].some((o) => o.value === value)) select.append(el('option', { value }, value));
      select.value = value;
    }
    f('annotationQuery').value = params.annotationQuery ?? '';
    f('minDuration').value = durationInput(params.minDuration);
    f('maxDuration').value = durationInput(params.maxDuration);
    f('endTs').value = params.endTs ? msToLocalInput(Number(params.endTs)) : '';
    setSelect(f('lookback'), params.lookback ?? DEFAULTS.lookback);
    setSelect(f('limit'), params.limit ?? DEFAULTS.limit);
  }

  function setSelect(select, value) {
    if (![...select.options].some((o) => o.value === value)) select.append(el('option', { value }, value));
    select.value = value;
  }

  /** The form as address parameters; undefined (and a message) when a field does not read. */
  function readForm() {
    const out = {};
    for (const name of ['serviceName', 'remoteServiceName', 'spanName', 'lookback', 'limit']) out[name] = f(name).value;
    out.annotationQuery = f('annotationQuery').value.trim();
    for (const name of ['minDuration', 'maxDuration']) {
      const us = parseDuration(f(name).value);
      if (Number.isNaN(us)) {
        showError(new Error(`${name === 'minDuration' ? 'Min' : 'Max'} duration "${f(name).value}" does not read as a duration: write 1500, 800us, 12ms or 1.5s.`));
        f(name).focus();
        return undefined;
      }
      out[name] = us === undefined ? '' : String(us);
    }
    const end = localInputToMs(f('endTs').value);
    out.endTs = end === undefined ? '' : String(end);
    for (const [name, value] of Object.entries(DEFAULTS)) if (out[name] === value) out[name] = '';
    return out;
  }

  function hashOf(p) {
    const wanted = {};
    for (const name of PARAMS) if (p[name]) wanted[name] = p[name];
    if (sort.value !== 'newest') wanted.sort = sort.value;
    return `#/${query(wanted)}`;
  }

  function submit() {
    const p = readForm();
    if (!p) return;
    const hash = hashOf(p);
    // The same address fires no hashchange: search again by hand.
    if (hash === location.hash || (hash === '#/' && (location.hash === '' || location.hash === '#'))) run({ live: false });
    else location.hash = hash;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  // A choice from a list is a search at once; typed fields wait for Enter or the button.
  for (const name of ['remoteServiceName', 'spanName', 'lookback', 'limit']) f(name).addEventListener('change', submit);
  f('serviceName').addEventListener('change', () => {
    params.spanName = params.remoteServiceName = undefined;
    f('spanName').value = f('remoteServiceName').value = '';
    void loadServiceDetails(f('serviceName').value);
    submit();
  });
  byId('search-reset').addEventListener('click', () => {
    form.reset();
    f('serviceName').value = f('spanName').value = f('remoteServiceName').value = '';
    submit();
  });
  sort.addEventListener('change', () => {
    history.replaceState(null, '', hashOf(params));
    render(false);
  });

  // Suggestions for the tag field: keys, then a key's values once it has "=".
  const keyValues = new Map();
  let keys;
  async function suggest() {
    const input = f('annotationQuery');
    const text = input.value;
    const clause = text.split(/\s+and\s+/i).pop() ?? '';
    const prefix = text.slice(0, text.length - clause.length);
    let options = [];
    try {
      const eq = clause.indexOf('=');
      if (eq < 0) {
        keys ??= await api.autocompleteKeys();
        options = (keys ?? []).map((key) => prefix + key);
      } else {
        const key = clause.slice(0, eq).trim();
        if (!keyValues.has(key)) keyValues.set(key, await api.autocompleteValues(key));
        options = (keyValues.get(key) ?? []).map((value) => `${prefix}${key}=${value}`);
      }
    } catch {
      keys = undefined; // suggestions are a help, not a requirement: the field still works
      return;
    }
    if (input.value !== text) return;
    clear(datalist).append(...options.slice(0, 200).map((value) => el('option', { value })));
  }
  f('annotationQuery').addEventListener('focus', () => void suggest());
  f('annotationQuery').addEventListener('input', () => void suggest());

  // --- the list ---------------------------------------------------------

  function apiParams() {
    const p = {};
    for (const name of PARAMS) if (params[name]) p[name] = params[name];
    p.lookback ??= DEFAULTS.lookback;
    p.limit ??= DEFAULTS.limit;
    p.endTs ??= String(Date.now());
    return p;
  }

  async function run({ live }) {
    const mine = ++generation;
    if (!live) count.textContent = 'Searching…';
    try {
      const answer = await api.traces(apiParams());
      if (mine !== generation) return; // a newer search answered first, or will
      hideError();
      summaries = Array.isArray(answer) ? answer : [];
      render(live);
    } catch (error) {
      if (mine !== generation) return;
      showError(error);
      count.textContent = '';
    }
  }

  function sorted() {
    const copy = summaries.slice();
    if (sort.value === 'longest') copy.sort((a, b) => b.duration - a.duration);
    else if (sort.value === 'spans') copy.sort((a, b) => b.spanCount - a.spanCount);
    else copy.sort((a, b) => b.start - a.start);
    return copy;
  }

  /**
   * Puts the rows in order, reusing each trace's element, so that focus stays
   * where it is and a row never jumps under the user's eyes: when they have
   * scrolled down, the row at the top of the window stays put as rows arrive
   * above it.
   */
  function render(live) {
    const items = sorted();
    const longest = items.reduce((most, s) => Math.max(most, s.duration), 1);
    const anchor = window.scrollY > 0 ? [...list.children].find((node) => node.getBoundingClientRect().bottom > 0) : undefined;
    const anchorTop = anchor?.getBoundingClientRect().top;

    const wanted = new Set(items.map((s) => s.traceId));
    for (const [id, node] of rows) if (!wanted.has(id)) { node.remove(); rows.delete(id); }
    let cursor = list.firstElementChild;
    for (const summary of items) {
      let node = rows.get(summary.traceId);
      const fresh = !node;
      if (fresh) {
        node = el('li', { class: 'trace-item', dataset: { traceId: summary.traceId } }, el('a', { class: 'trace-link', href: `#/trace/${encodeURIComponent(summary.traceId)}` }));
        rows.set(summary.traceId, node);
        if (live) node.classList.add('fresh');
      }
      fillRow(node, summary, longest);
      if (node === cursor) cursor = cursor.nextElementSibling;
      else list.insertBefore(node, cursor);
    }

    if (anchor && anchor.isConnected) window.scrollBy(0, anchor.getBoundingClientRect().top - anchorTop);
    const n = items.length;
    count.textContent = n === 0 ? 'No traces match.' : `${n} trace${n === 1 ? '' : 's'}${n === Number(apiParams().limit) ? ' (the limit; narrow the search for more)' : ''}`;
    if (focusLastOpened && !live) {
      focusLastOpened = false;
      rows.get(lastOpened)?.querySelector('a')?.focus();
    }
  }

  function fillRow(node, s, longest) {
    const link = node.firstElementChild;
    const signature = JSON.stringify(s) + longest;
    node.classList.toggle('has-error', s.errorCount > 0);
    node.classList.toggle('last-opened', s.traceId === lastOpened);
    if (node.dataset.signature === signature) {
      link.querySelector('.when').textContent = ago(s.start);
      return;
    }
    node.dataset.signature = signature;
    const fill = el('span', { class: 'fill' });
    fill.style.width = `${Math.max(0.5, (s.duration / longest) * 100)}%`;
    const chips = s.services.map((svc) => {
      const dot = el('span', { class: 'dot' });
      dot.style.backgroundColor = serviceColor(svc.name);
      return el('span', { class: 'chip', title: `${svc.spanCount} span${svc.spanCount === 1 ? '' : 's'} in ${svc.name}` }, dot, svc.name, el('span', { class: 'n' }, `×${svc.spanCount}`));
    });
    const rootDot = el('span', { class: 'dot' });
    rootDot.style.backgroundColor = serviceColor(s.rootService);
    link.replaceChildren(
      el('span', { class: 'when', title: dateTime(s.start) }, ago(s.start)),
      el('span', { class: 'root' }, rootDot, el('span', { class: 'svc' }, s.rootService), el('span', { class: 'name' }, s.rootName || '(no name)')),
      el('span', { class: 'dur' }, duration(s.duration)),
      el('span', { class: 'dur-bar', 'aria-hidden': 'true' }, fill),
      el('span', { class: 'count' }, `${s.spanCount} span${s.spanCount === 1 ? '' : 's'}`),
      s.errorCount > 0 ? el('span', { class: 'errors' }, `${s.errorCount} error${s.errorCount === 1 ? '' : 's'}`) : el('span', { class: 'errors none' }),
      el('span', { class: 'services' }, chips),
      el('span', { class: 'tid', title: s.traceId }, s.traceId),
    );
  }

  list.addEventListener('click', (event) => {
    const item = event.target instanceof Element ? event.target.closest('.trace-item') : null;
    if (item) lastOpened = item.dataset.traceId;
  });
  // Up and down move between results, as in a list box.
  list.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const item = event.target instanceof Element ? event.target.closest('.trace-item') : null;
    const next = event.key === 'ArrowDown' ? item?.nextElementSibling : item?.previousElementSibling;
    if (next) {
      event.preventDefault();
      next.querySelector('a')?.focus();
    }
  });
  // "12s ago" ages: refresh those words now and then.
  setInterval(() => {
    if (form.closest('.view').hidden) return;
    for (const s of summaries) {
      const node = rows.get(s.traceId);
      if (node) node.querySelector('.when').textContent = ago(s.start);
    }
  }, 10_000);

  function showError(error) {
    errorText.textContent = error instanceof Error ? error.message : String(error);
    errorText.hidden = false;
  }
  function hideError() {
    errorText.hidden = true;
  }

  let liveTimer;
  return {
    /** Shows the search the address asks for. */
    show(searchParams) {
      const next = {};
      for (const name of PARAMS) {
        const value = searchParams.get(name);
        if (value) next[name] = value;
      }
      const s = searchParams.get('sort');
      sort.value = s === 'longest' || s === 'spans' ? s : 'newest';
      const serviceChanged = next.serviceName !== params.serviceName || !loadedServices;
      params = next;
      fillForm();
      void loadServices();
      if (serviceChanged) void loadServiceDetails(params.serviceName);
      hideError();
      void run({ live: false });
      focusLastOpened = lastOpened !== undefined;
    },
    /**
     * Spans arrived: search again, quietly. The server decides what still
     * matches; a search ending at a fixed time in the past cannot gain traces.
     */
    spansArrived() {
      if (params.endTs && Number(params.endTs) < Date.now() - 60_000) return;
      loadedServices = false; // a new service may have come with them
      clearTimeout(liveTimer);
      liveTimer = setTimeout(() => {
        void loadServices();
        void run({ live: true });
      }, 100);
    },
    /** The address of the search shown, for "back to the list" links. */
    hash() {
      return hashOf(params);
    },
  };
}
