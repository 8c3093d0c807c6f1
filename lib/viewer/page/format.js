// How values read on screen: durations, times, and each service's colour.

/** Microseconds as a short duration: 850µs, 12.3ms, 1.24s, 2m 05s. */
export function duration(us) {
  if (!Number.isFinite(us)) return '–';
  if (us === 0) return '0';
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${trim(us / 1000)}ms`;
  if (us < 60_000_000) return `${trim(us / 1_000_000)}s`;
  const s = Math.round(us / 1_000_000);
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

// Three significant digits at most, and no trailing zeros: 12.3, 1.24, 250.
function trim(value) {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return String(Number(value.toFixed(digits)));
}

const UNITS = { us: 1, µs: 1, μs: 1, ms: 1000, s: 1_000_000, m: 60_000_000, min: 60_000_000 };

/**
 * A duration the user typed, in microseconds (what Zipkin's API takes): a bare
 * number is microseconds, as in the API and in the address; a unit makes it
 * anything else. Undefined when empty, NaN when it does not read.
 */
export function parseDuration(text) {
  const t = String(text ?? '').trim().toLowerCase().replace(/\s+/g, '');
  if (t === '') return undefined;
  const match = /^(\d+(?:\.\d+)?)([a-zµμ]*)$/.exec(t);
  if (!match) return NaN;
  const unit = match[2] === '' ? 1 : UNITS[match[2]];
  if (unit === undefined) return NaN;
  return Math.round(Number(match[1]) * unit);
}

/** Microseconds written back for the input, in a unit that reads back exactly. */
export function durationInput(us) {
  if (us === undefined || us === '' || !Number.isFinite(Number(us))) return '';
  const n = Number(us);
  if (n !== 0 && n % 1_000_000 === 0) return `${n / 1_000_000}s`;
  if (n !== 0 && n % 1000 === 0) return `${n / 1000}ms`;
  return `${n}us`;
}

/** Epoch microseconds as a local date and time, to the millisecond. */
export function dateTime(us) {
  const d = new Date(us / 1000);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Epoch microseconds as "12s ago", "3m ago", "yesterday"-ish, relative to now. */
export function ago(us, now = Date.now()) {
  const s = Math.round((now - us / 1000) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** Epoch milliseconds for a datetime-local input's value (local time), and back. */
export function localInputToMs(value) {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}
export function msToLocalInput(ms) {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// Distinct, calm colours that keep dark text readable. No reds: red means error.
const PALETTE = [
  '#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948',
  '#9c755f', '#86bcb6', '#a0cbe8', '#8cd17d', '#d4a6c8', '#f1ce63',
  '#7f7fbf', '#b6992d', '#499894', '#bab0ac',
];

/**
 * A service's colour: the same name gets the same colour in every trace, in
 * the graph and after a reload, since it comes from the name alone (FNV-1a).
 */
export function serviceColor(name) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return PALETTE[(hash >>> 0) % PALETTE.length];
}

/**
 * Tick marks for a time axis of `total` microseconds: a round step (1, 2 or 5
 * times a power of ten) giving about `target` intervals.
 */
export function ticks(total, target = 6) {
  if (!(total > 0)) return [0];
  const raw = total / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw) ?? 10 * power;
  const out = [];
  for (let t = 0; t <= total + step * 1e-9; t += step) out.push(t);
  return out;
}
