// ziptrace's viewer: which view the address asks for, and the live feed that
// tells the views when spans arrive. Every view keeps its state in the
// address (#/?…, #/trace/{id}/{span}, #/dependencies), so links can be
// shared, and back and forward walk through what the user did.

import { byId, toast } from './dom.js';
import { createDependencies } from './graph.js';
import { createSearch } from './search.js';
import { createTracePage } from './trace.js';

const views = { search: byId('view-search'), trace: byId('view-trace'), deps: byId('view-deps') };
const search = createSearch();
const trace = createTracePage(views.trace, { backHash: () => search.hash() });
const dependencies = createDependencies();
let current;

/** The address, read: which view, and its parameters. */
export function parseHash(hash) {
  const text = hash.replace(/^#/, '') || '/';
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  let parts;
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    parts = [];
  }
  if ((parts[0] === 'trace' || parts[0] === 'uploaded') && parts[1]) return { view: 'trace', traceId: parts[1], key: parts[2], uploaded: parts[0] === 'uploaded' };
  if (parts[0] === 'dependencies') return { view: 'deps', params };
  return { view: 'search', params };
}

function route() {
  const r = parseHash(location.hash);
  for (const [name, section] of Object.entries(views)) section.hidden = name !== r.view;
  byId('nav-traces').classList.toggle('current', r.view !== 'deps');
  byId('nav-deps').classList.toggle('current', r.view === 'deps');
  if (r.view !== 'trace' && current === 'trace') trace.leave();
  current = r.view;
  if (r.view === 'trace') {
    document.title = `Trace ${r.traceId} · ziptrace`;
    void trace.open(r.traceId, r.key, r.uploaded);
  } else if (r.view === 'deps') {
    document.title = 'Dependencies · ziptrace';
    dependencies.show(r.params);
  } else {
    document.title = 'Traces · ziptrace';
    search.show(r.params);
  }
}

window.addEventListener('hashchange', route);
route();

// --- the live feed ------------------------------------------------------------

const live = byId('live');
function connect() {
  const events = new EventSource('/ziptrace/api/events');
  events.addEventListener('open', () => {
    live.textContent = 'live';
    live.className = 'live on';
  });
  events.addEventListener('error', () => {
    // EventSource tries again by itself (the server asks for 2 s); say so meanwhile.
    live.textContent = events.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting…';
    live.className = 'live off';
    if (events.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
  events.addEventListener('spans', (event) => {
    let traceIds = [];
    try {
      const data = JSON.parse(event.data);
      if (Array.isArray(data.traceIds)) traceIds = data.traceIds.map(String);
    } catch {
      return;
    }
    if (current === 'search') search.spansArrived(traceIds);
    else if (current === 'trace') void trace.spansArrived(traceIds);
    else if (current === 'deps') dependencies.spansArrived();
  });
}
connect();

// --- opening a file -------------------------------------------------------------

const input = byId('upload');
input.addEventListener('change', () => {
  const file = input.files?.[0];
  input.value = ''; // the same file again is a new choice
  if (file) void trace.upload(file).catch((error) => toast(`${file.name}: ${error.message}`));
});
// A file dropped anywhere on the page opens too.
document.addEventListener('dragover', (event) => {
  if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
});
document.addEventListener('drop', (event) => {
  const file = event.dataTransfer?.files?.[0];
  if (!file) return;
  event.preventDefault();
  void trace.upload(file).catch((error) => toast(`${file.name}: ${error.message}`));
});
