// The server's API, same origin. Every call answers parsed JSON or throws an
// Error with the server's own message ({ "error": "..." }, or the text) when it has one.

async function request(path, init) {
  let res;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, ...init });
  } catch (cause) {
    throw new Error('The viewer is not answering. Is `ziptrace serve` still running?', { cause });
  }
  const text = await res.text();
  let body;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    // Zipkin's own endpoints answer errors as plain text; ziptrace's as { error }.
    const message = body && typeof body.error === 'string' ? body.error : text.trim().slice(0, 300) || `${res.status} ${res.statusText}`.trim();
    const error = new Error(message);
    error.status = res.status;
    throw error;
  }
  return body;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export const api = {
  services: () => request('/api/v2/services'),
  spanNames: (serviceName) => request(`/api/v2/spans${query({ serviceName })}`),
  remoteServices: (serviceName) => request(`/api/v2/remoteServices${query({ serviceName })}`),
  autocompleteKeys: () => request('/api/v2/autocompleteKeys'),
  autocompleteValues: (key) => request(`/api/v2/autocompleteValues${query({ key })}`),
  dependencies: (endTs, lookback) => request(`/api/v2/dependencies${query({ endTs, lookback })}`),
  /** The trace as Zipkin has it: a list of spans (for download). */
  rawTrace: (traceId) => request(`/api/v2/trace/${encodeURIComponent(traceId)}`),
  /** TraceSummary[], newest first. */
  traces: (params) => request(`/ziptrace/api/traces${query(params)}`),
  /** TraceView. */
  trace: (traceId) => request(`/ziptrace/api/trace/${encodeURIComponent(traceId)}`),
  /** TraceView of an uploaded file, not stored. */
  analyze: (jsonText) => request('/ziptrace/api/analyze', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: jsonText }),
};
